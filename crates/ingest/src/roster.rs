//! Rosters (SPEC 3.1): a district's schools and students, from a OneRoster CSV folder or zip,
//! MAP's `StudentsBySchool.csv`, or a plain CSV `student_id,school_id,grade,first_name,
//! last_name[,flags...]`.
//!
//! Every format ends in the same [`Roster`]; the student id is the one every other file uses
//! (OneRoster's `identifier`, the district's SIS id that MAP exports carry, else `sourcedId`).
//! Flags (targeting and equity fields) get canonical snake_case names so that targeting rules
//! read the same whatever the source: `english_learner`, `disability`,
//! `economically_disadvantaged`, `gender` and `ethnicity` for their common spellings, the
//! header in snake_case otherwise (`hispanicOrLatinoEthnicity` -> `hispanic_or_latino_ethnicity`).
//! Blank flag values are left out.

use crate::csvfile::{key, parse_term_name, split_list, CsvFile, Row, TERM_NAME};
use crate::{ImportError, ImportErrors};
use obc_core::{FlagSets, Flags, Grade, School, Student};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// A district's roster as one import creates or updates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roster {
    /// `--district` when given, else the OneRoster district org's `sourcedId`.
    pub district_id: String,
    /// The district org's name, MAP's `DistrictName`, or the id when the file has no name.
    pub district_name: String,
    /// Sorted by id. A school the file gives no name (the plain CSV without `school_name`) has
    /// an empty `name`: the store then names a new school by its id and never renames a known
    /// one (SPEC 3.1).
    pub schools: Vec<School>,
    /// Sorted by id; ids are unique.
    pub students: Vec<Student>,
}

/// Reads a roster from a path: a folder or a `.zip` of OneRoster CSV files, or a CSV file
/// (MAP's `StudentsBySchool*.csv`, recognised by name or header, else the plain layout).
/// `district` is `--district`: required except for OneRoster with a single district org.
pub fn read_roster(path: &Path, district: Option<&str>) -> Result<Roster, ImportErrors> {
    let name = path.display().to_string();
    if path.is_dir() {
        let mut source = DirSource::new(path).map_err(|e| ImportError::io(&name, &e))?;
        return read_oneroster(&mut source, district);
    }
    let mut file = File::open(path).map_err(|e| ImportError::io(&name, &e))?;
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        || starts_like_zip(&mut file).map_err(|e| ImportError::io(&name, &e))?;
    if is_zip {
        read_roster_zip(&name, file, district)
    } else {
        read_roster_csv(&name, file, district)
    }
}

/// Reads a roster from uploaded bytes: a zip (by its signature) of OneRoster files, else a
/// roster CSV. `name` is the uploaded file's name, used in messages and format detection.
pub fn read_roster_bytes(
    name: &str,
    bytes: &[u8],
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    read_roster_upload(name, std::io::Cursor::new(bytes), district)
}

/// [`read_roster_bytes`] from a seekable reader (an upload spooled to a file), from its start.
pub fn read_roster_upload<R: Read + Seek>(
    name: &str,
    mut reader: R,
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    let mut magic = Vec::with_capacity(4);
    let rewound = (&mut reader)
        .take(4)
        .read_to_end(&mut magic)
        .and_then(|_| reader.seek(std::io::SeekFrom::Start(0)));
    rewound.map_err(|e| ImportError::io(name, &e))?;
    let zip_magic = magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06");
    if zip_magic || name.to_ascii_lowercase().ends_with(".zip") {
        read_roster_zip(name, reader, district)
    } else {
        read_roster_csv(name, reader, district)
    }
}

/// Reads a OneRoster zip. Its files may sit at the top or inside one folder. A truncated or
/// damaged archive is an error on the zip, or on the entry that cannot be read.
pub fn read_roster_zip<R: Read + Seek>(
    name: &str,
    reader: R,
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    let mut source = ZipSource::new(name, reader)?;
    read_oneroster(&mut source, district)
}

/// Reads a single-file roster: MAP's `StudentsBySchool` export (a name starting with
/// `StudentsBySchool`, or a header with `StudentID`, `SchoolName` and `TermName`), else the
/// plain `student_id,school_id,grade,first_name,last_name[,flags...]`. Neither carries a
/// district id, so `district` is required.
pub fn read_roster_csv<R: Read>(
    name: &str,
    reader: R,
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    let file = CsvFile::new(name, reader)?;
    let h = &file.header;
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let is_map = base.to_ascii_lowercase().starts_with("studentsbyschool")
        || (h.has("StudentID") && h.has("SchoolName") && h.has("TermName"));
    if is_map {
        read_students_by_school(file, district)
    } else {
        read_plain(file, district)
    }
}

fn starts_like_zip(file: &mut File) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match file.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    file.rewind()?;
    Ok(got == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

fn district_required(name: &str, district: Option<&str>) -> Result<String, ImportError> {
    match district {
        Some(d) if !d.trim().is_empty() => Ok(d.trim().to_string()),
        _ => Err(ImportError::file(
            name,
            "a district id given with --district ID (this roster format does not carry one)",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Flags

/// The canonical name of a flag column (see the module documentation).
fn flag_name(header: &str) -> String {
    let canonical = match key(header).as_str() {
        "ell"
        | "el"
        | "lep"
        | "englishlearner"
        | "englishlanguagelearner"
        | "limitedenglishproficient"
        | "limitedenglishproficiency" => "english_learner",
        "iep"
        | "swd"
        | "sped"
        | "disability"
        | "studentwithdisability"
        | "studentwithdisabilities"
        | "studentswithdisabilities"
        | "specialeducation" => "disability",
        "frl"
        | "ecodis"
        | "economicallydisadvantaged"
        | "lowincome"
        | "freereducedlunch"
        | "freeandreducedlunch" => "economically_disadvantaged",
        "sex" | "gender" | "studentgender" => "gender",
        "ethnicity" | "ethnicgroup" | "studentethnicgroup" => "ethnicity",
        _ => return snake_case(header),
    };
    canonical.to_string()
}

fn snake_case(text: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// Flag columns of a header: (column, canonical name), skipping `skip` keys and names that
/// repeat an earlier column's canonical name.
fn flag_columns(names: &[String], skip: &[&str]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() || skip.contains(&key(n).as_str()) {
            continue;
        }
        let name = flag_name(n);
        if !name.is_empty() && !out.iter().any(|(_, m)| *m == name) {
            out.push((i, name));
        }
    }
    out
}

fn row_flags(row: &Row<'_>, columns: &[(usize, String)]) -> Vec<(String, String)> {
    let mut flags: Vec<(String, String)> = columns
        .iter()
        .filter(|(c, _)| !row.get(*c).is_empty())
        .map(|(c, n)| (n.clone(), row.get(*c).to_string()))
        .collect();
    flags.sort();
    // A roster holds these for every student: no spare capacity.
    flags.shrink_to_fit();
    flags
}

/// Remembers the line of each student id to report a duplicate with both lines.
#[derive(Default)]
struct Seen(HashMap<String, u64>);

impl Seen {
    fn check(&mut self, row: &Row<'_>, col: usize, id: &str) -> Result<(), ImportError> {
        if let Some(first) = self.0.get(id) {
            return Err(row.error(
                col,
                format!("a student id not already in this roster (also on line {first})"),
            ));
        }
        self.0.insert(id.to_string(), row.line);
        Ok(())
    }
}

/// A grade cell checked against OneRoster's vocabulary (SPEC 3.1); blank is `None`.
fn grade(row: &Row<'_>, col: usize, text: &str) -> Result<Option<Grade>, ImportError> {
    if !Grade::in_vocabulary(text) {
        return Err(ImportError::value(
            row.file,
            row.line,
            row.column_name(col),
            text,
            "a grade of OneRoster's vocabulary (IT, PR, PK, TK, KG or K, 01-13 or 1-13, PS, UG, \
             Other) or blank",
        ));
    }
    Ok(Grade::parse(text))
}

fn sorted_students(mut students: Vec<Student>) -> Vec<Student> {
    students.sort_by(|a, b| a.id.cmp(&b.id));
    students
}

// ---------------------------------------------------------------------------------------------
// Plain CSV

fn read_plain<R: Read>(
    mut file: CsvFile<R>,
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    let name = file.name.clone();
    let mut errors = ImportErrors::new();
    let district_id = district_required(&name, district);
    let h = &file.header;
    let student = h.require(&name, &["student_id"])?;
    let school = h.require(&name, &["school_id"])?;
    let grade = h.require(&name, &["grade"])?;
    let first = h.require(&name, &["first_name"])?;
    let last = h.require(&name, &["last_name"])?;
    let school_name = h.find(&["school_name"]);
    let flags = flag_columns(
        &h.names,
        &[
            "studentid",
            "schoolid",
            "grade",
            "firstname",
            "lastname",
            "schoolname",
        ],
    );
    let mut schools: BTreeMap<String, String> = BTreeMap::new();
    let mut students = Vec::new();
    let mut seen = Seen::default();
    let mut flag_sets = FlagSets::default();
    while let Some(row) = file.next_row() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let parsed = (|| {
            let id = row.required(student, "a student id")?;
            let school_id = row.required(school, "a school id")?;
            seen.check(&row, student, id)?;
            Ok(Student {
                id: id.to_string(),
                school_id: school_id.to_string(),
                grade: self::grade(&row, grade, row.get(grade))?,
                first_name: row.get(first).to_string(),
                last_name: row.get(last).to_string(),
                flags: flag_sets.of(row_flags(&row, &flags)),
            })
        })();
        match parsed {
            Ok(s) => {
                let school_name = row.opt(school_name);
                let entry = schools.entry(s.school_id.clone()).or_default();
                if entry.is_empty() {
                    *entry = school_name.to_string();
                }
                students.push(s);
            }
            Err(e) => errors.push(e),
        }
    }
    let district_id = match district_id {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let schools = schools
        .into_iter()
        .map(|(id, name)| School { id, name })
        .collect();
    errors.into_result(Roster {
        district_name: district_id.clone(),
        district_id,
        schools,
        students: sorted_students(students),
    })
}

// ---------------------------------------------------------------------------------------------
// MAP StudentsBySchool

fn read_students_by_school<R: Read>(
    mut file: CsvFile<R>,
    district: Option<&str>,
) -> Result<Roster, ImportErrors> {
    let name = file.name.clone();
    let mut errors = ImportErrors::new();
    let district_id = district_required(&name, district);
    let h = &file.header;
    let term = h.require(&name, &["TermName"])?;
    let student = h.require(&name, &["StudentID"])?;
    let school = h.require(&name, &["SchoolName"])?;
    let grade = h.require(&name, &["Grade"])?;
    let first = h.find(&["StudentFirstName"]);
    let last = h.find(&["StudentLastName"]);
    let district_col = h.find(&["DistrictName"]);
    let flags = [
        ("ethnicity", h.find(&["StudentEthnicGroup"])),
        ("gender", h.find(&["StudentGender"])),
    ];
    let mut district_name = String::new();
    let mut schools: BTreeMap<String, School> = BTreeMap::new();
    // The latest row of each student: (term order, student).
    let mut latest: HashMap<String, ((u32, u8), Student)> = HashMap::new();
    let mut flag_sets = FlagSets::default();
    while let Some(row) = file.next_row() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let parsed = (|| {
            let order = parse_term_name(row.get(term)).ok_or_else(|| row.error(term, TERM_NAME))?;
            let id = row.required(student, "a student id")?;
            let school_name = row.required(school, "a school name")?;
            let mut student_flags: Vec<(String, String)> = flags
                .iter()
                .filter_map(|(n, c)| {
                    let v = row.opt(*c);
                    (!v.is_empty()).then(|| (n.to_string(), v.to_string()))
                })
                .collect();
            student_flags.sort();
            Ok((
                order,
                Student {
                    id: id.to_string(),
                    school_id: school_name.to_string(),
                    grade: self::grade(&row, grade, row.get(grade))?,
                    first_name: row.opt(first).to_string(),
                    last_name: row.opt(last).to_string(),
                    flags: flag_sets.of(student_flags),
                },
            ))
        })();
        match parsed {
            Ok((order, s)) => {
                if district_name.is_empty() {
                    district_name = row.opt(district_col).to_string();
                }
                schools
                    .entry(s.school_id.clone())
                    .or_insert_with(|| School {
                        id: s.school_id.clone(),
                        name: s.school_id.clone(),
                    });
                match latest.get(&s.id) {
                    // A later row of the same term wins, so only a strictly earlier term loses.
                    Some((kept, _)) if *kept > order => {}
                    _ => {
                        latest.insert(s.id.clone(), (order, s));
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let district_id = match district_id {
        Ok(d) => d,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    if district_name.is_empty() {
        district_name = district_id.clone();
    }
    errors.into_result(Roster {
        district_id,
        district_name,
        schools: schools.into_values().collect(),
        students: sorted_students(latest.into_values().map(|(_, s)| s).collect()),
    })
}

// ---------------------------------------------------------------------------------------------
// OneRoster

/// Where the files of a OneRoster roster come from: a folder or a zip.
trait Source {
    /// The name of the folder or zip, for errors about the roster as a whole.
    fn label(&self) -> &str;
    /// Opens `file` (a lowercase OneRoster file name such as `users.csv`): its name for
    /// messages and a reader, or `None` when the roster has no such file.
    #[allow(clippy::type_complexity)]
    fn open(&mut self, file: &str) -> Result<Option<(String, Box<dyn Read + '_>)>, ImportError>;
}

struct DirSource {
    label: String,
    files: HashMap<String, PathBuf>,
}

impl DirSource {
    fn new(dir: &Path) -> std::io::Result<DirSource> {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let lower = entry.file_name().to_string_lossy().to_ascii_lowercase();
                files.insert(lower, entry.path());
            }
        }
        Ok(DirSource {
            label: dir.display().to_string(),
            files,
        })
    }
}

impl Source for DirSource {
    fn label(&self) -> &str {
        &self.label
    }

    fn open(&mut self, file: &str) -> Result<Option<(String, Box<dyn Read + '_>)>, ImportError> {
        let Some(path) = self.files.get(file) else {
            return Ok(None);
        };
        let name = path.display().to_string();
        let f = File::open(path).map_err(|e| ImportError::io(&name, &e))?;
        Ok(Some((name, Box::new(bounded(f)))))
    }
}

/// The OneRoster files obc reads.
const ONEROSTER_FILES: [&str; 6] = [
    "manifest.csv",
    "orgs.csv",
    "users.csv",
    "enrollments.csv",
    "demographics.csv",
    "roles.csv",
];

/// A roster file larger than this (uncompressed) is refused rather than read to the end: a zip
/// bomb, or not a roster. 256 MiB holds the `users.csv` of a district of a million students.
const MAX_ENTRY_BYTES: u64 = 256 << 20;

/// A reader that fails once more than `left` bytes came out of it, whatever a zip entry's
/// header declares, so that a roster file cannot inflate without bound.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "a roster file of at most {} MiB uncompressed",
                MAX_ENTRY_BYTES >> 20
            ))
        })?;
        Ok(n)
    }
}

fn bounded<R: Read>(inner: R) -> Bounded<R> {
    Bounded {
        inner,
        left: MAX_ENTRY_BYTES,
    }
}

struct ZipSource<R: Read + Seek> {
    label: String,
    archive: zip::ZipArchive<R>,
    /// Lowercase file name -> (path in the archive, index).
    entries: HashMap<String, (String, usize)>,
}

impl<R: Read + Seek> ZipSource<R> {
    fn new(label: &str, reader: R) -> Result<ZipSource<R>, ImportError> {
        let mut archive = zip::ZipArchive::new(reader).map_err(|e| {
            ImportError::file(label, format!("a complete, undamaged zip archive ({e})"))
        })?;
        let mut entries: HashMap<String, (String, usize)> = HashMap::new();
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| {
                ImportError::file(label, format!("a complete, undamaged zip archive ({e})"))
            })?;
            if entry.is_dir() {
                continue;
            }
            let Ok(path) = entry.name() else { continue };
            let path = path.replace('\\', "/");
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
            let base = match parts.as_slice() {
                [base] => *base,
                [folder, base] if *folder != "__MACOSX" => *base,
                _ => continue,
            };
            let lower = base.to_ascii_lowercase();
            if !ONEROSTER_FILES.contains(&lower.as_str()) {
                continue;
            }
            if let Some((other, _)) = entries.get(&lower) {
                return Err(ImportError::file(
                    label,
                    format!("one OneRoster roster per zip (found `{other}` and `{path}`)"),
                ));
            }
            entries.insert(lower, (path, i));
        }
        Ok(ZipSource {
            label: label.to_string(),
            archive,
            entries,
        })
    }
}

impl<R: Read + Seek> Source for ZipSource<R> {
    fn label(&self) -> &str {
        &self.label
    }

    fn open(&mut self, file: &str) -> Result<Option<(String, Box<dyn Read + '_>)>, ImportError> {
        let Some((path, index)) = self.entries.get(file) else {
            return Ok(None);
        };
        let name = format!("{}/{}", self.label, path);
        let entry = self.archive.by_index(*index).map_err(|e| {
            ImportError::file(
                &name,
                format!("a readable zip entry (the archive is damaged: {e})"),
            )
        })?;
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(ImportError::file(
                &name,
                format!("a roster file under {MAX_ENTRY_BYTES} bytes uncompressed"),
            ));
        }
        Ok(Some((name, Box::new(bounded(entry)))))
    }
}

struct Org {
    name: String,
    kind: String,
}

/// A OneRoster `status` of `tobedeleted` marks a record the source system removed.
fn deleted(row: &Row<'_>, status: Option<usize>) -> bool {
    row.opt(status).eq_ignore_ascii_case("tobedeleted")
}

/// Opens a OneRoster file and reads its header; header errors go to `errors`.
fn open_csv<'s>(
    source: &'s mut dyn Source,
    file: &str,
    errors: &mut ImportErrors,
) -> Option<CsvFile<Box<dyn Read + 's>>> {
    match source.open(file) {
        Ok(Some((name, reader))) => match CsvFile::new(&name, reader) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn read_oneroster(source: &mut dyn Source, district: Option<&str>) -> Result<Roster, ImportErrors> {
    let mut errors = ImportErrors::new();
    let label = source.label().to_string();
    for file in ["manifest.csv", "orgs.csv", "users.csv", "enrollments.csv"] {
        if source.open(file)?.is_none() {
            errors.push(ImportError::file(
                &label,
                format!(
                    "a OneRoster file `{file}` (a OneRoster roster has manifest.csv, orgs.csv, \
                     users.csv and enrollments.csv)"
                ),
            ));
        }
    }
    if errors.total > 0 {
        return Err(errors);
    }

    if let Some(mut f) = open_csv(source, "manifest.csv", &mut errors) {
        let name = f.name.clone();
        for col in ["propertyName", "value"] {
            if let Err(e) = f.header.require(&name, &[col]) {
                errors.push(e);
            }
        }
        f.check_all(&mut errors);
    }

    let orgs = read_orgs(source, &mut errors);
    let (district_id, district_name) = match &orgs {
        Some(o) => match choose_district(o, district) {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                Default::default()
            }
        },
        None => Default::default(),
    };

    // Roles and demographics are dropped once the users have taken what they need.
    let roles = read_roles(source, &mut errors);
    let demographics = read_demographics(source, &mut errors);
    let students = match &orgs {
        Some(o) => read_users(source, o, roles, demographics, &mut errors),
        None => Vec::new(),
    };

    if let Some(mut f) = open_csv(source, "enrollments.csv", &mut errors) {
        f.check_all(&mut errors);
    }

    let mut schools: Vec<School> = orgs
        .map(|o| {
            o.orgs
                .into_iter()
                .filter(|(_, org)| org.kind == "school")
                .map(|(id, org)| School { id, name: org.name })
                .collect()
        })
        .unwrap_or_default();
    schools.sort_by(|a, b| a.id.cmp(&b.id));
    errors.into_result(Roster {
        district_id,
        district_name,
        schools,
        students: sorted_students(students),
    })
}

struct Orgs {
    file: String,
    orgs: HashMap<String, Org>,
    /// District orgs: (sourcedId, name, line), in file order.
    districts: Vec<(String, String, u64)>,
}

fn read_orgs(source: &mut dyn Source, errors: &mut ImportErrors) -> Option<Orgs> {
    let mut f = open_csv(source, "orgs.csv", errors)?;
    let name = f.name.clone();
    let h = &f.header;
    let cols = (|| {
        Ok::<_, ImportError>((
            h.require(&name, &["sourcedId"])?,
            h.require(&name, &["name"])?,
            h.require(&name, &["type", "orgType"])?,
        ))
    })();
    let (id_col, name_col, type_col) = match cols {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let status = h.find(&["status"]);
    let mut out = Orgs {
        file: name,
        orgs: HashMap::new(),
        districts: Vec::new(),
    };
    let mut lines: HashMap<String, u64> = HashMap::new();
    while let Some(row) = f.next_row() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if deleted(&row, status) {
            continue;
        }
        let id = match row.required(id_col, "an org sourcedId") {
            Ok(id) => id,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(first) = lines.get(id) {
            errors.push(row.error(
                id_col,
                format!("an org sourcedId not already used (also on line {first})"),
            ));
            continue;
        }
        lines.insert(id.to_string(), row.line);
        let kind = row.get(type_col).to_ascii_lowercase();
        let org_name = row.get(name_col).to_string();
        if kind == "district" {
            out.districts
                .push((id.to_string(), org_name.clone(), row.line));
        }
        out.orgs.insert(
            id.to_string(),
            Org {
                name: org_name,
                kind,
            },
        );
    }
    Some(out)
}

fn choose_district(orgs: &Orgs, district: Option<&str>) -> Result<(String, String), ImportError> {
    if let Some(d) = district.map(str::trim).filter(|d| !d.is_empty()) {
        let name = match orgs.orgs.get(d) {
            Some(org) if org.kind == "district" => org.name.clone(),
            _ if orgs.districts.len() == 1 => orgs.districts[0].1.clone(),
            _ => d.to_string(),
        };
        return Ok((d.to_string(), name));
    }
    match orgs.districts.as_slice() {
        [(id, name, _)] => Ok((id.clone(), name.clone())),
        [] => Err(ImportError::file(
            &orgs.file,
            "an org of type `district` (there is none: give the district id with --district ID)",
        )),
        [(first, _, _), (second, _, line), ..] => Err(ImportError {
            file: orgs.file.clone(),
            line: *line,
            column: Some("sourcedId".to_string()),
            value: Some(second.clone()),
            expected: format!(
                "a single org of type `district` (`{first}` is one too: choose with --district ID)"
            ),
        }),
    }
}

/// OneRoster 1.2 `roles.csv`: user sourcedId -> (primary, role, org sourcedId).
type Roles = HashMap<String, Vec<(bool, String, String)>>;

fn read_roles(source: &mut dyn Source, errors: &mut ImportErrors) -> Option<Roles> {
    let mut f = open_csv(source, "roles.csv", errors)?;
    let name = f.name.clone();
    let h = &f.header;
    let cols = (|| {
        Ok::<_, ImportError>((
            h.require(&name, &["userSourcedId"])?,
            h.require(&name, &["role"])?,
            h.require(&name, &["orgSourcedId"])?,
        ))
    })();
    let (user, role, org) = match cols {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let role_type = h.find(&["roleType"]);
    let status = h.find(&["status"]);
    let mut roles = Roles::new();
    while let Some(row) = f.next_row() {
        match row {
            Ok(row) if !deleted(&row, status) => {
                let primary = row.opt(role_type).eq_ignore_ascii_case("primary");
                roles.entry(row.get(user).to_string()).or_default().push((
                    primary,
                    row.get(role).to_ascii_lowercase(),
                    row.get(org).to_string(),
                ));
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    // Primary roles first, otherwise in file order.
    for list in roles.values_mut() {
        list.sort_by_key(|(primary, _, _)| !primary);
    }
    Some(roles)
}

/// `demographics.csv`: user sourcedId -> flags (sorted).
fn read_demographics(source: &mut dyn Source, errors: &mut ImportErrors) -> HashMap<String, Flags> {
    let mut out = HashMap::new();
    let mut flag_sets = FlagSets::default();
    let Some(mut f) = open_csv(source, "demographics.csv", errors) else {
        return out;
    };
    let name = f.name.clone();
    let id = match f.header.require(&name, &["sourcedId"]) {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            return out;
        }
    };
    let status = f.header.find(&["status"]);
    // Identification and birth details are not targeting or equity flags.
    let flags = flag_columns(
        &f.header.names,
        &[
            "sourcedid",
            "status",
            "datelastmodified",
            "birthdate",
            "countryofbirthcode",
            "stateofbirthabbreviation",
            "cityofbirth",
            "publicschoolresidencestatus",
            "metadata",
        ],
    );
    while let Some(row) = f.next_row() {
        match row {
            Ok(row) if !deleted(&row, status) => {
                out.insert(
                    row.get(id).to_string(),
                    flag_sets.of(row_flags(&row, &flags)),
                );
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    out
}

/// The students of `users.csv`, each with its set of flags from `demographics`.
fn read_users(
    source: &mut dyn Source,
    orgs: &Orgs,
    roles: Option<Roles>,
    mut demographics: HashMap<String, Flags>,
    errors: &mut ImportErrors,
) -> Vec<Student> {
    let roles = roles.as_ref();
    let mut students = Vec::new();
    let Some(mut f) = open_csv(source, "users.csv", errors) else {
        return students;
    };
    let name = f.name.clone();
    let h = &f.header;
    let role = h.find(&["role"]);
    let org_ids = h.find(&["orgSourcedIds", "orgSourcedId"]);
    let cols = (|| {
        let sourced = h.require(&name, &["sourcedId"])?;
        if role.is_none() && roles.is_none() {
            h.require(&name, &["role", "roles.csv (OneRoster 1.2)"])?;
        }
        if role.is_some() && org_ids.is_none() {
            h.require(&name, &["orgSourcedIds"])?;
        }
        Ok::<_, ImportError>(sourced)
    })();
    let sourced = match cols {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            return students;
        }
    };
    let status = h.find(&["status"]);
    let identifier = h.find(&["identifier"]);
    let grades = h.find(&["grades", "grade"]);
    let given = h.find(&["givenName", "firstName", "first_name"]);
    let family = h.find(&["familyName", "lastName", "last_name"]);
    let primary_org = h.find(&["primaryOrgSourcedId"]);
    let mut seen = Seen::default();
    while let Some(row) = f.next_row() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if deleted(&row, status) {
            continue;
        }
        let user_id = row.get(sourced);
        let user_roles = roles.and_then(|r| r.get(user_id));
        let is_student = match role {
            Some(c) => split_list(row.get(c)).any(|r| r.eq_ignore_ascii_case("student")),
            None => user_roles.is_some_and(|r| r.iter().any(|(_, role, _)| role == "student")),
        };
        if !is_student {
            continue;
        }
        let parsed = (|| {
            let sourced_id = row.required(sourced, "a user sourcedId")?;
            let id = match row.opt(identifier) {
                "" => sourced_id,
                ident => ident,
            };
            // Candidate orgs: the student roles' orgs (1.2), then orgSourcedIds, then the
            // primary org.
            let mut candidates: Vec<&str> = Vec::new();
            if role.is_none() {
                if let Some(list) = user_roles {
                    candidates.extend(
                        list.iter()
                            .filter(|(_, r, _)| r == "student")
                            .map(|(_, _, o)| o.as_str()),
                    );
                }
            }
            candidates.extend(split_list(row.opt(org_ids)));
            candidates.extend(split_list(row.opt(primary_org)));
            let school = candidates
                .iter()
                .find(|o| orgs.orgs.get(**o).is_some_and(|org| org.kind == "school"))
                .ok_or_else(|| {
                    let col = org_ids.or(primary_org).unwrap_or(sourced);
                    row.error(
                        col,
                        "an org of type `school` among the student's orgs (every student needs a school)",
                    )
                })?;
            seen.check(
                &row,
                identifier.filter(|_| id != sourced_id).unwrap_or(sourced),
                id,
            )?;
            let grade = match grades {
                Some(col) => self::grade(&row, col, split_list(row.get(col)).next().unwrap_or(""))?,
                None => None,
            };
            Ok::<_, ImportError>(Student {
                id: id.to_string(),
                school_id: school.to_string(),
                grade,
                first_name: row.opt(given).to_string(),
                last_name: row.opt(family).to_string(),
                flags: demographics.remove(sourced_id).unwrap_or_default(),
            })
        })();
        match parsed {
            Ok(s) => students.push(s),
            Err(e) => errors.push(e),
        }
    }
    students
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared")
            .join(rel)
    }

    fn example_roster() -> PathBuf {
        shared("examples/baseline_seed7/roster")
    }

    /// A zip of the example roster, its files under `folder` (`""` for the top).
    fn zip_of(dir: &Path, folder: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        if !folder.is_empty() {
            w.add_directory(folder, opts).unwrap();
        }
        for path in names {
            let file = path.file_name().unwrap().to_str().unwrap();
            w.start_file(format!("{folder}{file}"), opts).unwrap();
            w.write_all(&std::fs::read(&path).unwrap()).unwrap();
        }
        for (file, text) in extra {
            w.start_file(format!("{folder}{file}"), opts).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn check_example(r: &Roster) {
        assert_eq!(r.district_id, "dist-mesa");
        assert_eq!(r.district_name, "Mesa Independent School District");
        let ids: Vec<&str> = r.schools.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["sch-001", "sch-002", "sch-003", "sch-004"]);
        assert_eq!(r.schools[0].name, "Bonham Middle School");
        let s = r.students.iter().find(|s| s.id == "2000000").unwrap();
        assert_eq!(s.school_id, "sch-001");
        assert_eq!(s.grade, Some(Grade::Level(6)));
        assert_eq!(
            (s.first_name.as_str(), s.last_name.as_str()),
            ("Lucas", "Hernandez")
        );
        assert!(r.students.windows(2).all(|w| w[0].id < w[1].id));
        assert!(
            r.students.iter().all(|s| !s.id.starts_with('T')),
            "teachers are not students"
        );
    }

    #[test]
    fn oneroster_folder() {
        let r = read_roster(&example_roster(), None).unwrap();
        check_example(&r);
        let students_in_file = std::fs::read_to_string(example_roster().join("users.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.contains(",student,"))
            .count();
        assert_eq!(r.students.len(), students_in_file);
        let r = read_roster(&example_roster(), Some("mesa")).unwrap();
        assert_eq!(
            (r.district_id.as_str(), r.district_name.as_str()),
            ("mesa", "Mesa Independent School District")
        );
    }

    #[test]
    fn oneroster_zip_top_level_and_in_a_folder() {
        for folder in ["", "roster/"] {
            let bytes = zip_of(&example_roster(), folder, &[]);
            check_example(&read_roster_bytes("roster.zip", &bytes, None).unwrap());
        }
    }

    #[test]
    fn truncated_zip_is_an_error() {
        let bytes = zip_of(&example_roster(), "", &[]);
        for len in [bytes.len() / 2, bytes.len() - 10, 3] {
            let errs = read_roster_zip("roster.zip", Cursor::new(&bytes[..len]), None).unwrap_err();
            assert_eq!(errs[0].file, "roster.zip");
            assert_eq!(errs[0].line, 0);
            assert!(
                errs[0]
                    .to_string()
                    .starts_with("roster.zip: expected a complete, undamaged zip archive"),
                "{}",
                errs[0]
            );
        }
        // Through the path API too.
        let dir = std::env::temp_dir().join(format!("obc-ingest-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("roster.zip");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let errs = read_roster(&path, None).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(errs[0].expected.contains("zip archive"));
    }

    #[test]
    fn damaged_entry_is_an_error_on_the_entry() {
        let mut bytes = zip_of(&example_roster(), "", &[]);
        // Scramble the compressed data of users.csv (its local header names it first).
        let needle = b"users.csv";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        for b in &mut bytes[at + 40..at + 400] {
            *b ^= 0x5A;
        }
        let errs = read_roster_bytes("roster.zip", &bytes, None).unwrap_err();
        assert!(errs.iter().any(|e| e.file.contains("users.csv")), "{errs}");
    }

    #[test]
    fn missing_oneroster_file() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("users.csv", SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"sourcedId\n").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let errs = read_roster_bytes("r.zip", &bytes, None).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert!(errs[0].to_string().contains("`manifest.csv`"));
    }

    /// A small OneRoster roster in memory, as a zip.
    fn mini(orgs: &str, users: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        let mut files = vec![
            (
                "manifest.csv",
                "propertyName,value\noneroster.version,1.1\n",
            ),
            ("orgs.csv", orgs),
            ("users.csv", users),
            (
                "enrollments.csv",
                "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role\n",
            ),
        ];
        files.extend_from_slice(extra);
        for (name, text) in files {
            w.start_file(name, opts).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const ORGS: &str = "sourcedId,name,type,parentSourcedId\nd1,District One,district,\ns1,School One,school,d1\ns2,School Two,school,d1\n";

    #[test]
    fn student_with_no_school() {
        let users = "\u{feff}SourcedID,OrgSourcedIds,Role,GivenName,FamilyName,Identifier,Grades\n\
                     u1,\"s1,s2\",student,A,B,100,05\n\
                     u2,d1,student,C,D,101,6\n";
        let errs = read_roster_bytes("r.zip", &mini(ORGS, users, &[]), None).unwrap_err();
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!((e.file.as_str(), e.line), ("r.zip/users.csv", 3));
        assert_eq!(
            (e.column.as_deref(), e.value.as_deref()),
            (Some("OrgSourcedIds"), Some("d1"))
        );
    }

    #[test]
    fn header_aliases_quoted_lists_and_demographics() {
        let users = "sourced_id,orgsourcedids,role,givenname,familyname,identifier,grades,status\n\
                     u1,\"d1, s2\",student,A,B,,\"KG,01\",\n\
                     u2,s1,teacher,T,T,,,\n\
                     u3,s1,student,E,F,103,,tobedeleted\n";
        let demo = "sourcedId,birthDate,sex,hispanicOrLatinoEthnicity,white,englishLearner,IEP\n\
                    u1,2015-01-01,female,true,false,Y,\n";
        let r = read_roster_bytes(
            "r.zip",
            &mini(ORGS, users, &[("demographics.csv", demo)]),
            None,
        )
        .unwrap();
        assert_eq!(r.students.len(), 1);
        let s = &r.students[0];
        assert_eq!((s.id.as_str(), s.school_id.as_str()), ("u1", "s2"));
        assert_eq!(s.grade, Some(Grade::Level(0)));
        let flags: Vec<(&str, &str)> = s
            .flags
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            flags,
            [
                ("english_learner", "Y"),
                ("gender", "female"),
                ("hispanic_or_latino_ethnicity", "true"),
                ("white", "false")
            ]
        );
    }

    #[test]
    fn duplicate_student_id() {
        let users = "sourcedId,orgSourcedIds,role,givenName,familyName,identifier,grades\n\
                     u1,s1,student,A,B,100,5\nu2,s1,student,C,D,100,5\n";
        let errs = read_roster_bytes("r.zip", &mini(ORGS, users, &[]), None).unwrap_err();
        assert_eq!(errs[0].line, 3);
        assert!(
            errs[0].to_string().contains("also on line 2"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn no_district_org_or_several() {
        let users = "sourcedId,orgSourcedIds,role,givenName,familyName,identifier,grades\nu1,s1,student,A,B,100,5\n";
        let orgs = "sourcedId,name,type\ns1,School One,school\n";
        let errs = read_roster_bytes("r.zip", &mini(orgs, users, &[]), None).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].file, "r.zip/orgs.csv");
        assert!(errs[0].expected.contains("--district"), "{}", errs[0]);
        let r = read_roster_bytes("r.zip", &mini(orgs, users, &[]), Some("d9")).unwrap();
        assert_eq!(
            (r.district_id.as_str(), r.district_name.as_str()),
            ("d9", "d9")
        );

        let orgs = "sourcedId,name,type\nd1,One,district\nd2,Two,district\ns1,School One,school\n";
        let errs = read_roster_bytes("r.zip", &mini(orgs, users, &[]), None).unwrap_err();
        assert_eq!(errs[0].line, 3);
        assert!(errs[0].expected.contains("--district"));
        let r = read_roster_bytes("r.zip", &mini(orgs, users, &[]), Some("d2")).unwrap();
        assert_eq!(r.district_name, "Two");
    }

    #[test]
    fn oneroster_1_2_roles() {
        let users = "sourcedId,status,username,givenName,familyName,identifier,grades\n\
                     u1,active,a,A,B,100,07\nu2,active,t,T,T,,\n";
        let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,orgSourcedId\n\
                     r1,,,u1,secondary,student,s1\nr2,,,u1,primary,student,s2\nr3,,,u2,primary,teacher,s1\n";
        let r =
            read_roster_bytes("r.zip", &mini(ORGS, users, &[("roles.csv", roles)]), None).unwrap();
        assert_eq!(r.students.len(), 1);
        assert_eq!(
            (r.students[0].id.as_str(), r.students[0].school_id.as_str()),
            ("100", "s2")
        );
        // Neither a role column nor roles.csv.
        let errs = read_roster_bytes("r.zip", &mini(ORGS, users, &[]), None).unwrap_err();
        assert_eq!((errs[0].line, errs[0].column.as_deref()), (1, Some("role")));
    }

    #[test]
    fn non_utf8_users_file() {
        let users = b"sourcedId,orgSourcedIds,role,givenName,familyName,identifier,grades\nu1,s1,student,Jos\xE9,B,100,5\n";
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        for (name, text) in [
            ("manifest.csv", &b"propertyName,value\n"[..]),
            ("orgs.csv", ORGS.as_bytes()),
            ("users.csv", &users[..]),
            ("enrollments.csv", &b"sourcedId\n"[..]),
        ] {
            w.start_file(name, opts).unwrap();
            w.write_all(text).unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        let errs = read_roster_bytes("r.zip", &bytes, None).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].column.as_deref()),
            (2, Some("givenName"))
        );
    }

    #[test]
    fn map_students_by_school() {
        let path = shared("samples/map/StudentsBySchool.csv");
        let errs = read_roster(&path, None).unwrap_err();
        assert!(errs[0].expected.contains("--district"));
        let r = read_roster(&path, Some("nwea")).unwrap();
        assert_eq!(r.district_id, "nwea");
        assert_eq!(r.district_name, "NWEA Partner Support Reporting District");
        assert_eq!(r.students.len(), 714);
        assert_eq!(r.schools.len(), 4);
        assert!(r.schools.iter().any(|s| s.id == "Mt. Hood High School"));
        let s = r.students.iter().find(|s| s.id == "F08000002").unwrap();
        assert_eq!(s.school_id, "Mt. Bachelor Middle School");
        assert_eq!(
            (s.first_name.as_str(), s.last_name.as_str()),
            ("Jeffrey", "Koolstra")
        );
        assert_eq!(
            s.flags.to_vec(),
            [
                ("ethnicity".to_string(), "Hispanic or Latino".to_string()),
                ("gender".to_string(), "M".to_string())
            ]
        );
        // Two rows in Spring 2013-2014 at two schools: the later row wins.
        let s = r.students.iter().find(|s| s.id == "F08000033").unwrap();
        assert_eq!(s.school_id, "Three Sisters Elementary School");
    }

    #[test]
    fn map_latest_term_wins() {
        let text =
            "TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentID,Grade\n\
                    Spring 2013-2014,D,Middle,L,F,1,6\n\
                    Summer 2012-2013,D,Elem,L,F,1,5\n\
                    Fall 2013-2014,D,Other,L,F,1,6\n\
                    Fall 2013-2014,D,Elem,L,F,2,05\n\
                    Fall 2013,D,Elem,L,F,3,5\n";
        let errs = read_roster_csv("StudentsBySchool.csv", text.as_bytes(), Some("d")).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].column.as_deref()),
            (6, Some("TermName"))
        );
        let text: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
        let r = read_roster_csv("upload.csv", text.as_bytes(), Some("d")).unwrap();
        assert_eq!(r.students[0].school_id, "Middle");
        assert_eq!(r.students[1].grade, Some(Grade::Level(5)));
        assert_eq!(r.schools.len(), 3);
    }

    #[test]
    fn plain_csv() {
        let text = "student_id,school_id,grade,first_name,last_name,ELL,Economically Disadvantaged,school_name\n\
                    s2,h1,KG,A,B,Y,,High One\ns1,h1,05,C,D,,N,\n";
        let errs = read_roster_csv("roster.csv", text.as_bytes(), None).unwrap_err();
        assert!(errs[0].expected.contains("--district"));
        let r = read_roster_csv("roster.csv", text.as_bytes(), Some("d")).unwrap();
        assert_eq!(r.students[0].id, "s1");
        assert_eq!(r.students[0].grade, Some(Grade::Level(5)));
        assert_eq!(
            r.students[0].flags.to_vec(),
            [("economically_disadvantaged".to_string(), "N".to_string())]
        );
        assert_eq!(
            r.students[1].flags.to_vec(),
            [("english_learner".to_string(), "Y".to_string())]
        );
        assert_eq!(
            r.schools,
            [School {
                id: "h1".into(),
                name: "High One".into()
            }]
        );

        let text =
            "student_id,school_id,grade,first_name,last_name\ns1,,5,A,B\ns2,h,5,A,B\ns2,h,5,A,B\n";
        let errs = read_roster_csv("roster.csv", text.as_bytes(), Some("d")).unwrap_err();
        let lines: Vec<u64> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4]);
        let errs =
            read_roster_csv("roster.csv", &b"student_id,grade\n"[..], Some("d")).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].column.as_deref()),
            (1, Some("school_id"))
        );
    }

    #[test]
    fn grades_outside_the_vocabulary_are_errors_in_every_format() {
        let plain = "student_id,school_id,grade,first_name,last_name\n\
                     s1,h,seven,A,B\ns2,h,14,A,B\ns3,h,,A,B\ns4,h,K,A,B\ns5,h,13,A,B\ns6,h,UG,A,B\n";
        let errs = read_roster_csv("roster.csv", plain.as_bytes(), Some("d")).unwrap_err();
        let found: Vec<(u64, &str)> = errs
            .iter()
            .map(|e| (e.line, e.value.as_deref().unwrap()))
            .collect();
        assert_eq!(found, [(2, "seven"), (3, "14")]);
        assert_eq!(
            errs[0].to_string(),
            "roster.csv:2: column `grade`: value `seven`: expected a grade of OneRoster's \
             vocabulary (IT, PR, PK, TK, KG or K, 01-13 or 1-13, PS, UG, Other) or blank"
        );
        let good: String = plain
            .lines()
            .enumerate()
            .filter(|(i, _)| ![1, 2].contains(i))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let r = read_roster_csv("roster.csv", good.as_bytes(), Some("d")).unwrap();
        let grades: Vec<Option<Grade>> = r.students.iter().map(|s| s.grade.clone()).collect();
        assert_eq!(
            grades,
            [
                None,
                Some(Grade::Level(0)),
                Some(Grade::Level(13)),
                Some(Grade::Other("UG".into()))
            ]
        );

        let map = "TermName,SchoolName,StudentID,Grade\nFall 2013-2014,Elem,1,Grade 5\n";
        let errs = read_roster_csv("StudentsBySchool.csv", map.as_bytes(), Some("d")).unwrap_err();
        assert_eq!(
            (errs[0].line, errs[0].column.as_deref()),
            (2, Some("Grade"))
        );

        let users = "sourcedId,orgSourcedIds,role,givenName,familyName,identifier,grades\n\
                     u1,s1,student,A,B,100,\"seven,08\"\nu2,s1,student,A,B,101,\"08,seven\"\n";
        let errs = read_roster_bytes("r.zip", &mini(ORGS, users, &[]), None).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs}");
        assert_eq!(
            (
                errs[0].line,
                errs[0].column.as_deref(),
                errs[0].value.as_deref()
            ),
            (2, Some("grades"), Some("seven"))
        );
    }

    #[test]
    fn a_plain_roster_without_school_names_names_no_school() {
        let text = "student_id,school_id,grade,first_name,last_name\ns1,sch-lincoln,7,A,B\n";
        let r = read_roster_csv("roster.csv", text.as_bytes(), Some("d")).unwrap();
        assert_eq!(
            r.schools,
            [School {
                id: "sch-lincoln".into(),
                name: String::new()
            }]
        );
    }

    #[test]
    fn a_roster_file_cannot_inflate_past_its_bound() {
        let mut over = Bounded {
            inner: std::io::repeat(b'\n'),
            left: 10,
        };
        let mut buf = [0u8; 8];
        assert_eq!(over.read(&mut buf).unwrap(), 8);
        let e = over.read(&mut buf).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a roster file of at most 256 MiB uncompressed"
        );
        // Through CsvFile the failure is an error on the file, and reading stops.
        let huge = Bounded {
            inner: std::io::repeat(b'\n'),
            left: 1 << 20,
        };
        let e = CsvFile::new("r.zip/users.csv", huge).err().unwrap();
        assert!(e.expected.contains("at most 256 MiB"), "{e}");
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(
            snake_case("hispanicOrLatinoEthnicity"),
            "hispanic_or_latino_ethnicity"
        );
        assert_eq!(snake_case("Home Language"), "home_language");
        assert_eq!(flag_name("ELL"), "english_learner");
        assert_eq!(flag_name("StudentGender"), "gender");
    }
}
