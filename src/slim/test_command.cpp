// What `--test` runs and as whom (see slimage/slim/test_command.h). The word
// splitting follows POSIX shell quoting (XCU 2.2) without any expansion;
// etc/passwd and etc/group are read as getpwnam(3)/getgrouplist(3) read
// them, from the image's files: the host's users mean nothing inside it.
#include "slimage/slim/test_command.h"

#include <charconv>
#include <optional>
#include <string_view>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// NAME=… at the start of a word: a shell assignment, not a program name.
bool is_assignment(const std::string& word) {
  size_t eq = word.find('=');
  if (eq == 0 || eq == std::string::npos) return false;
  for (size_t i = 0; i < eq; i++) {
    char c = word[i];
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Lines of an etc/passwd or etc/group file, split on ':'.
std::vector<std::vector<std::string>> colon_records(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  for (auto& line : split_any(text, "\n")) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); i++)
      if (i == line.size() || line[i] == ':') fields.push_back(line.substr(start, i - start)), start = i + 1;
    out.push_back(std::move(fields));
  }
  return out;
}

}  // namespace

SplitCommand split_command(const std::string& command) {
  SplitCommand out;
  std::string word;
  bool in_word = false;
  auto syntax = [&](std::string token) {
    if (out.shell_syntax.empty()) out.shell_syntax = std::move(token);
  };
  auto end_word = [&] {
    if (!in_word) return;
    out.argv.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  for (size_t i = 0; i < command.size(); i++) {
    char c = command[i];
    if (is_blank(c)) {
      end_word();
      continue;
    }
    bool word_start = !in_word;
    in_word = true;
    if (c == '\'') {
      size_t close = command.find('\'', i + 1);
      if (close == std::string::npos) fail("--test '" + command + "': unterminated ' quote");
      word += command.substr(i + 1, close - i - 1);
      i = close;
    } else if (c == '"') {
      for (i++;; i++) {
        if (i >= command.size()) fail("--test '" + command + "': unterminated \" quote");
        char d = command[i];
        if (d == '"') break;
        if (d == '\\' && i + 1 < command.size() && std::string_view("\"\\$`\n").find(command[i + 1]) != std::string_view::npos) {
          word += command[++i];
        } else {
          if (d == '$' || d == '`') syntax(std::string(1, d));  // expansion inside "…"
          word += d;
        }
      }
    } else if (c == '\\') {
      if (i + 1 >= command.size()) fail("--test '" + command + "': trailing backslash");
      word += command[++i];
    } else {
      static constexpr std::string_view kOperators = "|&;<>()$`\n*?";
      if (kOperators.find(c) != std::string_view::npos ||
          (word_start && (c == '~' || c == '#'))) {
        bool doubled = i + 1 < command.size() && command[i + 1] == c && std::string_view("|&;<>").find(c) != std::string_view::npos;
        syntax(doubled ? std::string(2, c) : std::string(1, c));
      }
      word += c;
    }
  }
  end_word();
  if (out.shell_syntax.empty() && !out.argv.empty() && is_assignment(out.argv[0]))
    out.shell_syntax = out.argv[0].substr(0, out.argv[0].find('=') + 1);
  return out;
}

ImageUser resolve_image_user(const std::string& user, const std::string& passwd,
                             const std::string& group) {
  ImageUser u;
  std::string spec = user.empty() ? "0" : user;  // no User: root, as the runtime runs it
  std::string who = spec.substr(0, spec.find(':'));
  std::string grp = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
  if (who.empty()) fail("image User '" + user + "': no user before ':'");
  auto numeric = parse_id(who);
  bool found = false;
  for (auto& p : colon_records(passwd)) {
    if (p.size() < 4) continue;
    auto uid = parse_id(p[2]);
    if (!uid || (numeric ? *uid != *numeric : p[0] != who)) continue;
    u.uid = *uid, u.name = p[0];
    u.gid = parse_id(p[3]).value_or(0);
    if (p.size() >= 6 && !p[5].empty()) u.home = p[5];
    found = true;
    break;
  }
  if (!found) {
    if (!numeric) fail("image User '" + user + "': no user '" + who + "' in the image's /etc/passwd");
    u.uid = *numeric;  // a bare uid need not have an entry (runc: gid 0, HOME /)
  }
  auto groups = colon_records(group);
  if (!grp.empty()) {
    auto numeric_gid = parse_id(grp);
    bool group_found = static_cast<bool>(numeric_gid);
    if (numeric_gid) u.gid = *numeric_gid;
    for (auto& g : groups)
      if (!numeric_gid && g.size() >= 3 && g[0] == grp)
        if (auto gid = parse_id(g[2])) u.gid = *gid, group_found = true;
    if (!group_found) fail("image User '" + user + "': no group '" + grp + "' in the image's /etc/group");
  } else if (!u.name.empty()) {
    // Supplementary groups as initgroups(3) finds them; not with an explicit group (runc).
    for (auto& g : groups) {
      if (g.size() < 4) continue;
      auto gid = parse_id(g[2]);
      if (!gid || *gid == u.gid) continue;
      for (auto& member : split_any(g[3], ","))
        if (member == u.name) u.groups.push_back(*gid);
    }
  }
  return u;
}

std::vector<std::string> container_env(const std::vector<std::string>& image_env,
                                       const ImageUser& user) {
  std::vector<std::string> env = image_env;
  auto has = [&](std::string_view name) {
    for (auto& e : env)
      if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') return true;
    return false;
  };
  if (!has("PATH")) env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!has("HOME")) env.push_back("HOME=" + user.home);
  return env;
}

std::string clip_output(const std::string& output, size_t head, size_t tail) {
  if (output.size() <= head + tail + 64) return output;
  size_t cut = output.size() - head - tail;
  return output.substr(0, head) + "\n[… " + std::to_string(cut) + " bytes cut …]\n" +
         output.substr(output.size() - tail);
}

}  // namespace slimage
