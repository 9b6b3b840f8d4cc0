//! `multimem-link`: command-line front end of the multimem linker.
fn main() {
    eprintln!("multimem-link: not implemented yet");
    std::process::exit(1);
}
