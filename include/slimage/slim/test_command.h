// `--test`: the pieces that decide what runs and as whom, as pure functions
// of strings (the runner in src/slim/root_runner.cpp does the running):
// splitting a command into argv the way a POSIX shell splits plain words
// (quotes and backslashes, no expansion), spotting shell syntax that only a
// shell could run, the image's User resolved through the image's own
// etc/passwd and etc/group (as runc does: never the host's), the environment
// the container would get, and clipping long output for the error message.
// OCI config: https://github.com/opencontainers/image-spec/blob/main/config.md
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slimage {

struct SplitCommand {
  std::vector<std::string> argv;
  // The first piece of shell syntax outside quotes ("|", "$", ">", "&&",
  // "VAR=value", "*", …); empty when the words alone say what to run.
  std::string shell_syntax;
};

// Splits `command` into words: blanks separate, '…' keeps everything,
// "…" keeps everything but \" \\ \$ \` (a backslash escapes those), and an
// unquoted backslash escapes the next character. Throws Error on an
// unterminated quote or a trailing backslash.
SplitCommand split_command(const std::string& command);

struct ImageUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;  // supplementary, from etc/group memberships
  std::string name;              // "" for a numeric uid not in etc/passwd
  std::string home = "/";
};

// The config's User ("", "name", "uid", "name:group", "uid:gid", …) resolved
// through the image's etc/passwd and etc/group contents. A numeric uid need
// not exist; a name that does not exist is an Error naming it.
ImageUser resolve_image_user(const std::string& user, const std::string& passwd,
                             const std::string& group);

// The container's environment: the config's Env, nothing from the host,
// plus PATH and HOME when the config does not set them (as runc does).
std::vector<std::string> container_env(const std::vector<std::string>& image_env,
                                       const ImageUser& user);

// `output` as shown in an error: whole if short, else its first `head` and
// last `tail` bytes around a line saying how many were cut.
std::string clip_output(const std::string& output, size_t head = 4096, size_t tail = 12288);

// SIGKILLs the process group of every `--test` run in progress (main's
// interrupt handler: a test's children must not outlive slimage).
void kill_running_tests();

}  // namespace slimage
