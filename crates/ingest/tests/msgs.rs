use std::path::Path;
#[test]
fn show() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/examples/baseline_seed7/roster");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    use std::io::Write;
    for f in ["manifest.csv","orgs.csv","users.csv","enrollments.csv"] {
        w.start_file(format!("r/{f}"), zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&std::fs::read(base.join(f)).unwrap()).unwrap();
    }
    let mut bytes = w.finish().unwrap().into_inner();
    let at = bytes.windows(9).position(|w| w == b"users.csv").unwrap();
    for b in &mut bytes[at + 40..at + 400] { *b ^= 0x5A; }
    match obc_ingest::roster::read_roster_bytes("roster.zip", &bytes, None) { Err(e) => eprintln!("{e}"), Ok(_) => eprintln!("ok") }
    let half = &bytes[..bytes.len()/2];
    match obc_ingest::roster::read_roster_bytes("roster.zip", half, None) { Err(e) => eprintln!("{e}"), Ok(_) => eprintln!("ok") }
    match obc_ingest::read_roster(Path::new("/nonexistent/x.csv"), None) { Err(e) => eprintln!("{e}"), Ok(_) => eprintln!("ok") }
    match obc_ingest::AssessmentReader::new("a.csv", &b"TermName,StudentID,TestRITScore\n"[..]) { Err(e) => eprintln!("{e}"), Ok(_) => eprintln!("ok") }
    panic!();
}
