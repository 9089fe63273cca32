//! Writes the demo data set: `cargo run -p obc-demo --example write_demo -- DIR [SEED]`.

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "demo".into());
    let seed = args
        .next()
        .map_or(7, |s| s.parse().expect("SEED is an integer"));
    let started = std::time::Instant::now();
    let f = obc_demo::write_demo(std::path::Path::new(&dir), seed)?;
    println!(
        "{}: {} students, {} enrolled, {} sessions, {} MAP rows in {:?}",
        f.dir.display(),
        f.students,
        f.enrolled,
        f.session_count,
        f.assessment_count,
        started.elapsed()
    );
    Ok(())
}
