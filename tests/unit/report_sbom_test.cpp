// SBOM generators (src/report/sbom.cpp): a synthetic package list and image
// facts in, exact SPDX 2.3 and CycloneDX 1.5 fields out — package URLs,
// versions, licenses, counts, the removed/changed files, determinism.
#include <doctest/doctest.h>

#include "slimage/report/sbom.h"
#include "slimage/util/error.h"

namespace slimage {
namespace {

SbomDocument sample_document() {
  SbomImage image;
  image.name = "oci:/tmp/out:img";
  image.manifest_digest = "sha256:" + std::string(64, 'a');
  image.platform = "linux/amd64";
  image.os = parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
  image.packages = {
      {"dpkg", "libc6", "2.36-9+deb12u4", "amd64", {"LGPL-2.1+", "GPL-2+"}, 0},
      {"dpkg", "libssl3", "1:3.0.11-1", "amd64", {}, 3},
      {"python", "Foo_Bar.baz", "1.2", "", {"MIT OR Apache-2.0"}, 0, true},
  };
  image.files = {{"usr/lib/x.so", true, "unreachable-library"}, {"usr/bin/app", false, "stripped"}};
  SbomDocument d;
  d.images = {image};
  d.root_digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  d.created = sbom_created(std::nullopt, "2024-03-04T05:06:07.123456Z");
  d.tool_version = "1.2.3";
  return d;
}

TEST_CASE("sbom: package URLs for dpkg, apk and pypi") {
  OsRelease debian{"debian", "12"}, alpine{"alpine", "3.19.1"};
  CHECK(package_url({"dpkg", "libc6", "2.36-9+deb12u4", "amd64"}, debian) ==
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12");
  CHECK(package_url({"dpkg", "libssl3", "1:3.0.11-1", "arm64"}, debian) ==
        "pkg:deb/debian/libssl3@1%3A3.0.11-1?arch=arm64&distro=debian-12");
  CHECK(package_url({"dpkg", "tzdata", "2024a", "all"}, OsRelease{}) == "pkg:deb/debian/tzdata@2024a?arch=all");
  CHECK(package_url({"apk", "musl", "1.2.4-r2", "x86_64"}, alpine) ==
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1");
  CHECK(package_url({"python", "Foo_Bar.baz", "1.2"}, debian) == "pkg:pypi/foo-bar-baz@1.2");
}

TEST_CASE("sbom: format from the file name or the word") {
  CHECK(sbom_format_for_path("out/image.spdx.json") == SbomFormat::Spdx);
  CHECK(sbom_format_for_path("image.cdx.json") == SbomFormat::CycloneDx);
  CHECK_FALSE(sbom_format_for_path("image.json").has_value());
  CHECK(parse_sbom_format("cyclonedx") == SbomFormat::CycloneDx);
  CHECK_THROWS_WITH_AS(parse_sbom_format("swid"), "--sbom-format swid: not spdx or cyclonedx", Error);
}

TEST_CASE("sbom: created from SOURCE_DATE_EPOCH, else the image, else the epoch") {
  CHECK(sbom_created(1700000000, "2024-03-04T05:06:07Z") == "2023-11-14T22:13:20Z");
  CHECK(sbom_created(std::nullopt, "2024-03-04T05:06:07.999999999Z") == "2024-03-04T05:06:07Z");
  CHECK(sbom_created(std::nullopt, "2024-03-04T05:06:07+02:00") == "1970-01-01T00:00:00Z");
  CHECK(sbom_created(std::nullopt, "") == "1970-01-01T00:00:00Z");
}

TEST_CASE("sbom: os-release ID and VERSION_ID, quoted or not") {
  OsRelease os = parse_os_release("NAME='Alpine Linux'\nID=alpine\nVERSION_ID=3.19.1\n");
  CHECK(os.id == "alpine");
  CHECK(os.version_id == "3.19.1");
}

TEST_CASE("sbom: SPDX 2.3 document lists the image and exactly its packages") {
  nlohmann::json j = spdx_json(sample_document());
  CHECK(j["spdxVersion"] == "SPDX-2.3");
  CHECK(j["dataLicense"] == "CC0-1.0");
  CHECK(j["SPDXID"] == "SPDXRef-DOCUMENT");
  CHECK(j["name"] == "oci:/tmp/out:img");
  CHECK(j["documentNamespace"] ==
        "https://slimage.invalid/spdx/sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  CHECK(j["creationInfo"] == nlohmann::json{{"created", "2024-03-04T05:06:07Z"}, {"creators", {"Tool: slimage-1.2.3"}}});
  REQUIRE(j["packages"].size() == 4);
  const nlohmann::json& image = j["packages"][0];
  CHECK(image["SPDXID"] == "SPDXRef-Image-0");
  CHECK(image["versionInfo"] == "sha256:" + std::string(64, 'a'));
  CHECK(image["primaryPackagePurpose"] == "CONTAINER");
  REQUIRE(image["annotations"].size() == 2);
  CHECK(image["annotations"][0] == nlohmann::json{{"annotationDate", "2024-03-04T05:06:07Z"},
                                                  {"annotationType", "OTHER"},
                                                  {"annotator", "Tool: slimage-1.2.3"},
                                                  {"comment", "removed usr/lib/x.so (unreachable-library)"}});
  CHECK(image["annotations"][1]["comment"] == "changed usr/bin/app (stripped)");
  const nlohmann::json& libc = j["packages"][1];
  CHECK(libc["SPDXID"] == "SPDXRef-Package-0-dpkg-libc6-0");
  CHECK(libc["name"] == "libc6");
  CHECK(libc["versionInfo"] == "2.36-9+deb12u4");
  CHECK(libc["downloadLocation"] == "NOASSERTION");
  CHECK(libc["licenseDeclared"] == "NOASSERTION");
  CHECK(libc["licenseComments"] == "declared by the package: LGPL-2.1+, GPL-2+");
  CHECK(libc["externalRefs"] ==
        nlohmann::json::parse(R"([{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
          "referenceLocator": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"}])"));
  CHECK_FALSE(libc.contains("comment"));
  CHECK(j["packages"][2]["comment"] == "3 of its files removed by slimage");
  const nlohmann::json& foo = j["packages"][3];
  CHECK(foo["SPDXID"] == "SPDXRef-Package-0-python-Foo-Bar.baz-2");
  CHECK(foo["licenseDeclared"] == "MIT OR Apache-2.0");
  CHECK(foo["externalRefs"][0]["referenceLocator"] == "pkg:pypi/foo-bar-baz@1.2");
  REQUIRE(j["relationships"].size() == 4);
  CHECK(j["relationships"][0] == nlohmann::json{{"spdxElementId", "SPDXRef-DOCUMENT"},
                                                {"relationshipType", "DESCRIBES"},
                                                {"relatedSpdxElement", "SPDXRef-Image-0"}});
  CHECK(j["relationships"][3] == nlohmann::json{{"spdxElementId", "SPDXRef-Image-0"},
                                                {"relationshipType", "CONTAINS"},
                                                {"relatedSpdxElement", "SPDXRef-Package-0-python-Foo-Bar.baz-2"}});
}

TEST_CASE("sbom: CycloneDX 1.5 document: the image as subject, its packages as components") {
  nlohmann::json j = cyclonedx_json(sample_document());
  CHECK(j["bomFormat"] == "CycloneDX");
  CHECK(j["specVersion"] == "1.5");
  CHECK(j["version"] == 1);
  CHECK(j["serialNumber"] == "urn:uuid:01234567-89ab-5def-8123-456789abcdef");
  CHECK(j["metadata"]["timestamp"] == "2024-03-04T05:06:07Z");
  CHECK(j["metadata"]["tools"]["components"][0] ==
        nlohmann::json{{"type", "application"}, {"name", "slimage"}, {"version", "1.2.3"}});
  const nlohmann::json& image = j["metadata"]["component"];
  CHECK(image["type"] == "container");
  CHECK(image["version"] == "sha256:" + std::string(64, 'a'));
  CHECK(image["properties"] == nlohmann::json::parse(R"([{"name": "slimage:platform", "value": "linux/amd64"},
      {"name": "slimage:removed", "value": "usr/lib/x.so"}, {"name": "slimage:changed", "value": "usr/bin/app"}])"));
  REQUIRE(j["components"].size() == 3);
  CHECK(j["components"][0] == nlohmann::json::parse(R"({"type": "library",
      "bom-ref": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
      "name": "libc6", "version": "2.36-9+deb12u4",
      "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
      "licenses": [{"license": {"name": "LGPL-2.1+"}}, {"license": {"name": "GPL-2+"}}],
      "properties": [{"name": "slimage:package-database", "value": "dpkg"}]})"));
  CHECK(j["components"][1]["properties"][1] == nlohmann::json{{"name", "slimage:files-removed"}, {"value", "3"}});
  CHECK_FALSE(j["components"][1].contains("licenses"));
  CHECK(j["components"][2]["licenses"] == nlohmann::json::parse(R"([{"expression": "MIT OR Apache-2.0"}])"));
}

TEST_CASE("sbom: the same values render the same bytes") {
  CHECK(render_sbom(sample_document(), SbomFormat::Spdx) == render_sbom(sample_document(), SbomFormat::Spdx));
  CHECK(render_sbom(sample_document(), SbomFormat::CycloneDx).ends_with("}\n"));
}

}  // namespace
}  // namespace slimage
