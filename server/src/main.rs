use clap::Parser;
use tierboard::config::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate {
            problem,
            design,
            problems,
        } => std::process::exit(tierboard::validation::cli::run(
            &problem, &design, &problems,
        )),
        _ => {
            eprintln!("tierboard: this command is not wired in yet");
            std::process::exit(2);
        }
    }
}
