// The command-line interface: CLI11 definitions for every subcommand.
#pragma once

namespace slimage {

// Parses argv and runs the command; returns the exit code (usage errors: 2).
int run_cli(int argc, char** argv);

}  // namespace slimage
