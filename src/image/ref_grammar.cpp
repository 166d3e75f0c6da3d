// Output references checked by their transport's grammar before anything is
// read, so every name slimage writes is one skopeo and umoci can name again.
//  - oci:/oci-archive: the org.opencontainers.image.ref.name grammar of
//    image-spec annotations.md:
//      ref := component ("/" component)*; component := alphanum (separator alphanum)*
//      alphanum := [A-Za-z0-9]+; separator := [-._:@+] | "--"
//  - docker:// and docker-archive: distribution/reference (reference.go):
//      path component [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, tag [\w][\w.-]{0,127},
//      domain components [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? joined by ".",
//      optional ":port"; the whole name at most 255 bytes.
// So "../../x" and "a/../../b:c" are refused: "." may not start a component.
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/error.h"

namespace slimage {

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Reads one run of `alnum` at s[i]; false if there is none.
template <typename Pred>
bool run_of(std::string_view s, size_t& i, Pred pred) {
  size_t start = i;
  while (i < s.size() && pred(s[i])) i++;
  return i > start;
}

bool oci_ref_name_ok(std::string_view s) {
  size_t i = 0;
  for (;;) {
    if (!run_of(s, i, is_alnum)) return false;
    while (i < s.size() && s[i] != '/') {
      if (s.substr(i, 2) == "--") i += 2;
      else if (std::string_view("-._:@+").find(s[i]) != std::string_view::npos) i++;
      else return false;
      if (!run_of(s, i, is_alnum)) return false;
    }
    if (i == s.size()) return true;
    i++;  // '/'
  }
}

bool repository_component_ok(std::string_view s) {
  size_t i = 0;
  if (!run_of(s, i, is_lower_alnum)) return false;
  while (i < s.size()) {
    if (s.substr(i, 2) == "__") i += 2;
    else if (s[i] == '.' || s[i] == '_') i++;
    else if (s[i] == '-') run_of(s, i, [](char c) { return c == '-'; });
    else return false;
    if (!run_of(s, i, is_lower_alnum)) return false;
  }
  return true;
}

bool repository_ok(std::string_view s) {
  size_t i = 0;
  for (;;) {
    size_t slash = s.find('/', i);
    if (!repository_component_ok(s.substr(i, slash == std::string_view::npos ? slash : slash - i)))
      return false;
    if (slash == std::string_view::npos) return true;
    i = slash + 1;
  }
}

bool port_ok(std::string_view s) {  // ":digits" or nothing
  if (s.empty()) return true;
  size_t i = 1;
  return s[0] == ':' && run_of(s, i, [](char c) { return c >= '0' && c <= '9'; }) && i == s.size();
}

bool domain_ok(std::string_view s) {
  if (s.starts_with("[")) {  // IPv6 literal
    size_t close = s.find(']');
    return close != std::string_view::npos && close > 1 && port_ok(s.substr(close + 1));
  }
  if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
    if (!port_ok(s.substr(colon))) return false;
    s = s.substr(0, colon);
  }
  size_t i = 0;
  for (;;) {
    size_t dot = s.find('.', i);
    std::string_view label = s.substr(i, dot == std::string_view::npos ? dot : dot - i);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    i = dot + 1;
  }
}

bool tag_ok(std::string_view s) {
  auto word = [](char c) { return is_alnum(c) || c == '_'; };
  if (s.empty() || s.size() > 128 || !word(s[0])) return false;
  for (char c : s.substr(1))
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

// "HOST/REPO" as parse_image_ref leaves it for docker://.
std::string docker_name_problem(std::string_view name, std::string_view tag) {
  if (name.size() > 255) return "repository name longer than 255 bytes";
  size_t slash = name.find('/');
  std::string_view domain = name.substr(0, slash);
  std::string_view repo = slash == std::string_view::npos ? std::string_view() : name.substr(slash + 1);
  if (!domain_ok(domain)) return "registry host '" + std::string(domain) + "' is not valid (host[:port])";
  if (!repository_ok(repo))
    return "repository '" + std::string(repo) +
           "' is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-', "
           "components joined by '/')";
  if (!tag.starts_with("@") && !tag_ok(tag))
    return "tag '" + std::string(tag) + "' is not valid ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
  return {};
}

}  // namespace

std::string output_ref_problem(const ImageRef& ref) {
  switch (ref.transport) {
    case Transport::Oci:
    case Transport::OciArchive:
      if (ref.ref.empty() || oci_ref_name_ok(ref.ref)) return {};
      return "ref name '" + ref.ref +
             "' is not valid for an OCI layout (image-spec annotations.md: components of "
             "[A-Za-z0-9] joined by one of -._:@+ or --, separated by '/')";
    case Transport::Docker:
      return docker_name_problem(ref.path, ref.ref);
    case Transport::DockerArchive: {
      if (ref.ref.empty()) return {};
      // "repo:tag", normalized as docker:// names are.
      ImageRef named = parse_image_ref("docker://" + ref.ref);
      return docker_name_problem(named.path, named.ref);
    }
  }
  return {};
}

std::string output_ref_problem(std::string_view text) {
  try {
    if (auto problem = output_ref_problem(parse_image_ref(text)); !problem.empty())
      return "\"" + std::string(text) + "\": " + problem;
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace slimage
