// `slimage batch` pieces: the LIST format, --shard selection, --all-tags
// expansion, the Link header of tag listing, and SpillCache sharing one
// decode between concurrent jobs (include/slimage/cli/batch.h, include/slimage/rootfs/spill_cache.h).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "slimage/cli/batch.h"
#include "slimage/rootfs/spill_cache.h"
#include "slimage/layer/tar.h"
#include "slimage/registry/tags.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

using namespace slimage;

TEST_CASE("batch: list lines are SRC DST; comments and blank lines are skipped") {
  auto jobs = parse_batch_list("# header\n\n  oci:/a:x\toci:/b:y  \r\n"
                               "docker://r/a:1 docker://r/a-slim:1 # why\n   # indented\nsrc dst",
                               "list.txt");
  REQUIRE(jobs.size() == 3);
  CHECK(jobs[0].source == "oci:/a:x");
  CHECK(jobs[0].destination == "oci:/b:y");
  CHECK(jobs[0].line == 3);
  CHECK(jobs[1].destination == "docker://r/a-slim:1");
  CHECK(jobs[2].source == "src");
  CHECK(jobs[2].line == 6);
  CHECK(parse_batch_list("", "x").empty());
}

TEST_CASE("batch: a list line with one or three fields is an error with its location") {
  CHECK_THROWS_WITH(parse_batch_list("a b\nonly-one\n", "l.txt"),
                    doctest::Contains("l.txt:2: expected `SRC DST`, got 1 field"));
  CHECK_THROWS_WITH(parse_batch_list("a b c", "l.txt"), doctest::Contains("l.txt:1:"));
}

TEST_CASE("batch: --shard parses I/N and rejects I >= N, N = 0 and junk") {
  Shard s = parse_shard("2/5");
  CHECK(s.index == 2);
  CHECK(s.count == 5);
  for (const char* bad : {"5/5", "1/0", "1", "a/2", "1/2x", "-1/2", "/2", "1/"})
    CHECK_THROWS_AS(parse_shard(bad), Error);
}

TEST_CASE("batch: the N shards cover the list exactly once, in list order") {
  std::vector<BatchJob> jobs;
  for (int i = 0; i < 11; i++) jobs.push_back({"s" + std::to_string(i), "d", size_t(i + 1)});
  for (size_t n : {1, 2, 3, 4, 11, 15}) {
    std::multiset<std::string> seen;
    for (size_t i = 0; i < n; i++) {
      auto part = select_shard(jobs, {i, n});
      for (size_t k = 1; k < part.size(); k++) CHECK(part[k - 1].line < part[k].line);
      for (auto& j : part) seen.insert(j.source);
    }
    CHECK(seen.size() == jobs.size());
    for (auto& j : jobs) CHECK(seen.count(j.source) == 1);
  }
  auto first = select_shard(jobs, {1, 4});
  REQUIRE(first.size() == 3);
  CHECK(first[0].source == "s1");
  CHECK(first[2].source == "s9");
}

TEST_CASE("batch: --all-tags maps each tag of --from to the same tag of --to") {
  auto jobs = jobs_for_tags("docker://127.0.0.1:5000/app", "docker://127.0.0.1:5000/app-slim",
                            {"1", "latest"});
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].source == "docker://127.0.0.1:5000/app:1");
  CHECK(jobs[1].destination == "docker://127.0.0.1:5000/app-slim:latest");
  CHECK_THROWS_AS(jobs_for_tags("docker://h:1/app:1", "docker://h:1/x", {}), Error);
  CHECK_THROWS_AS(jobs_for_tags("oci:/x", "docker://h:1/x", {}), Error);
  CHECK_THROWS_AS(jobs_for_tags("docker://h:1/app", "docker://h:1/app", {}), Error);
}

TEST_CASE("registry: Link header gives the next tags page") {
  using registry::next_link;
  CHECK(next_link("</v2/app/tags/list?last=b&n=2>; rel=\"next\"") == "/v2/app/tags/list?last=b&n=2");
  CHECK(next_link("<https://r/v2/a/tags/list?last=x>;rel=next") == "https://r/v2/a/tags/list?last=x");
  CHECK(next_link("</prev>; rel=\"prev\", </next>; rel=\"next\"") == "/next");
  CHECK(next_link("</x>; rel=\"prev\"").empty());
  CHECK(next_link("").empty());
  CHECK(next_link("garbage <unterminated").empty());
}

namespace {

// A Source holding one layer blob in memory; counts how often it is opened
// and can be slowed down so that other jobs arrive while it decodes.
class OneBlobSource : public Source {
 public:
  explicit OneBlobSource(std::string blob) : blob_(std::move(blob)) {}
  std::string name() const override { return "memory"; }
  RootManifest root() override { fail("memory: no root"); }
  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    opens++;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (broken) fail("blob " + short_digest(d.digest) + ": broken on purpose");
    return std::make_unique<MemoryReader>(std::string_view(blob_));
  }
  std::atomic<int> opens{0};
  bool broken = false;

 private:
  std::string blob_;
};

std::string small_tar() {
  StringWriter out;
  TarWriter tar(out);
  TarEntry e;
  e.path = "etc/hello";
  e.size = 6;
  tar.add(e);
  tar.write_data("hello\n", 6);
  tar.finish();
  return out.str();
}

}  // namespace

TEST_CASE("batch: concurrent jobs needing one layer decode it once and get their own entries") {
  std::string tar = small_tar();
  OneBlobSource source(tar);
  Descriptor d{"application/vnd.oci.image.layer.v1.tar", sha256_digest(tar), int64_t(tar.size())};
  TempDir dir(scratch_parent(), "slimage-test-");
  SpillCache cache(dir.path());
  std::vector<std::unique_ptr<SpilledLayer>> got(4);
  std::atomic<int> shared_count{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); i++)
    threads.emplace_back([&, i] {
      bool shared = false;
      got[i] = cache.get(source, d, sha256_digest(tar), &shared);
      shared_count += shared;
    });
  for (auto& t : threads) t.join();
  CHECK(source.opens == 1);
  CHECK(cache.decoded() == 1);
  CHECK(cache.reused() == 3);
  CHECK(shared_count == 3);
  for (auto& l : got) {
    REQUIRE(l);
    REQUIRE(l->entries.size() == 1);
    CHECK(l->tar_path == got[0]->tar_path);
    CHECK(l->map.bytes().size() == tar.size());
  }
  got[0]->entries[0].path = "changed by a merge";
  CHECK(got[1]->entries[0].path.empty());
  // An image whose config names another diff_id for the same blob is told so.
  CHECK_THROWS_WITH(cache.get(source, d, "sha256:" + std::string(64, '0')),
                    doctest::Contains("diff_id mismatch"));
  CHECK(source.opens == 1);
}

TEST_CASE("batch: a failed decode is not cached; the next job decodes with its own source") {
  std::string tar = small_tar();
  OneBlobSource bad(tar), good(tar);
  bad.broken = true;
  Descriptor d{"application/vnd.oci.image.layer.v1.tar", sha256_digest(tar), int64_t(tar.size())};
  TempDir dir(scratch_parent(), "slimage-test-");
  SpillCache cache(dir.path());
  CHECK_THROWS_WITH(cache.get(bad, d, ""), doctest::Contains("broken on purpose"));
  auto layer = cache.get(good, d, "");
  CHECK(layer->entries.size() == 1);
  CHECK(good.opens == 1);
  CHECK(cache.decoded() == 1);
}

TEST_CASE("batch: --sbom DIR names each image's SBOM after its destination; a clash is refused") {
  CHECK(batch_sbom_file("/s", "oci:/out/a:1", false) == "/s/oci__out_a_1.spdx.json");
  CHECK(batch_sbom_file("/s", "docker://reg:5000/team/app:v1.2", true) == "/s/docker___reg_5000_team_app_v1.2.cdx.json");
  std::vector<BatchJob> jobs = {{"oci:/in/a:1", "oci:/out/a:1", 1}, {"oci:/in/b:1", "oci:/out/b:1", 2}};
  CHECK_NOTHROW(check_batch_sbom_files("/s", jobs, false));
  jobs.push_back({"oci:/in/c:1", "oci:/out_a:1", 3});  // '/' and '_' both become '_'
  CHECK_THROWS_WITH_AS(check_batch_sbom_files("/s", jobs, false),
                       "--sbom /s: oci:/out/a:1 and oci:/out_a:1 would both write /s/oci__out_a_1.spdx.json", Error);
}
