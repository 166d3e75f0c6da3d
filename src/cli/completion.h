// Shell completion scripts and the man page, generated from the same CLI11
// option table that `--help` prints, so none of them can drift from it.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace slimage {

// bash | zsh | fish; throws Error for another shell.
std::string completion_script(const CLI::App& app, const std::string& shell);
// man(7) roff for section 1.
std::string man_page(const CLI::App& app, const std::string& version);

}  // namespace slimage
