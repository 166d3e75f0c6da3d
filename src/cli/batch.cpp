// `slimage batch` job lists: the LIST file format, --shard I/N selection and
// --all-tags expansion. Pure functions (tested in tests/unit/cli_batch_test.cpp);
// the runner is in batch_run.cpp.
//
// LIST format, one image per line:
//   # a comment
//   oci:/in/a:img   docker://reg/a-slim:1     # trailing comment
//   docker://reg/b:2 oci-archive:/out/b.tar
// Sharding is by position in the parsed list (comments and blank lines do not
// count), so every worker of an N-way job computes the same partition from the
// same LIST without talking to the others.
#include "slimage/cli/batch.h"

#include <cctype>
#include <charconv>
#include <map>

#include "slimage/image/image.h"
#include "slimage/util/error.h"

namespace slimage {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) i++;
    if (i >= line.size() || line[i] == '#') break;  // a comment runs to the end of the line
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) i++;
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

size_t parse_count(std::string_view text, std::string_view whole) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail("--shard " + std::string(whole) + ": expected I/N with whole numbers, e.g. 0/4");
  return value;
}

// docker://HOST/REPO with no tag or digest -> "docker://HOST/REPO".
std::string repository_of(const std::string& text, const char* option) {
  ImageRef ref = parse_image_ref(text);
  if (ref.transport != Transport::Docker)
    fail(std::string(option) + " " + text + ": --all-tags needs a docker:// repository");
  // parse_image_ref fills in "latest"; look at what was written.
  std::string_view name(text);
  name = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/'));
  if (name.find(':') != std::string_view::npos || name.find('@') != std::string_view::npos)
    fail(std::string(option) + " " + text + ": name a repository, without a tag or digest");
  return "docker://" + ref.path;
}

}  // namespace

std::vector<BatchJob> parse_batch_list(std::string_view text, const std::string& name) {
  std::vector<BatchJob> jobs;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line_number++;
    auto fields = fields_of(line);
    if (fields.empty()) continue;
    if (fields.size() != 2)
      fail(name + ":" + std::to_string(line_number) + ": expected `SRC DST`, got " +
           std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s"));
    if (auto problem = output_ref_problem(fields[1]); !problem.empty())
      fail(name + ":" + std::to_string(line_number) + ": " + problem);
    jobs.push_back({std::string(fields[0]), std::string(fields[1]), line_number});
  }
  return jobs;
}

Shard parse_shard(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    fail("--shard " + std::string(text) + ": expected I/N, e.g. 0/4");
  Shard s{parse_count(text.substr(0, slash), text), parse_count(text.substr(slash + 1), text)};
  if (s.count == 0) fail("--shard " + std::string(text) + ": N must be at least 1");
  if (s.index >= s.count)
    fail("--shard " + std::string(text) + ": I must be below N (shards are numbered from 0)");
  return s;
}

std::vector<BatchJob> select_shard(const std::vector<BatchJob>& jobs, Shard shard) {
  std::vector<BatchJob> out;
  for (size_t i = shard.index; i < jobs.size(); i += shard.count) out.push_back(jobs[i]);
  return out;
}

std::string batch_output_file(const std::string& dir, const std::string& destination, std::string_view suffix) {
  std::string name = destination;
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return dir + "/" + name + std::string(suffix);
}

void check_batch_output_files(const std::string& dir, const std::vector<BatchJob>& jobs, std::string_view suffix,
                              std::string_view flag) {
  std::map<std::string, std::string> by_file;
  for (auto& job : jobs) {
    std::string file = batch_output_file(dir, job.destination, suffix);
    auto [it, added] = by_file.emplace(file, job.destination);
    if (!added && it->second != job.destination)
      fail(std::string(flag) + " " + dir + ": " + it->second + " and " + job.destination + " would both write " + file);
  }
}

std::string batch_sbom_file(const std::string& dir, const std::string& destination, bool cyclonedx) {
  return batch_output_file(dir, destination, cyclonedx ? ".cdx.json" : ".spdx.json");
}

void check_batch_sbom_files(const std::string& dir, const std::vector<BatchJob>& jobs, bool cyclonedx) {
  check_batch_output_files(dir, jobs, cyclonedx ? ".cdx.json" : ".spdx.json", "--sbom");
}

std::vector<BatchJob> jobs_for_tags(const std::string& from, const std::string& to,
                                    const std::vector<std::string>& tags) {
  std::string src = repository_of(from, "--from"), dst = repository_of(to, "--to");
  if (src == dst) fail("--to " + to + ": is the --from repository; slimage never modifies its input");
  std::vector<BatchJob> jobs;
  for (auto& tag : tags) jobs.push_back({src + ":" + tag, dst + ":" + tag, 0});
  return jobs;
}

}  // namespace slimage
