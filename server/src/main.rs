use clap::Parser;
use tierboard::config::Cli;

fn main() {
    let _cli = Cli::parse();
}
