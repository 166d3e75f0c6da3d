// SBOM generators: SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/)
// and CycloneDX 1.5 JSON (https://cyclonedx.org/docs/1.5/json/).
// The document describes the slimmed image (one container package or
// component per platform) and the packages that stay in its databases, each
// with a package URL scanners match on. The files slimage removed or changed
// go on the image: SPDX annotations ("removed PATH (KIND)"), CycloneDX
// properties (name slimage:removed or slimage:changed, value PATH).
// Deterministic: the time comes from SOURCE_DATE_EPOCH or the image, the
// SPDX namespace and CycloneDX serial number from the root digest.
#include "slimage/report/report.h"
#include "slimage/report/sbom.h"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

SbomFormat parse_sbom_format(const std::string& word) {
  if (word == "spdx") return SbomFormat::Spdx;
  if (word == "cyclonedx") return SbomFormat::CycloneDx;
  throw Error("--sbom-format " + word + ": not spdx or cyclonedx");
}

std::optional<SbomFormat> sbom_format_for_path(const std::string& path) {
  if (path.ends_with(".spdx.json")) return SbomFormat::Spdx;
  if (path.ends_with(".cdx.json")) return SbomFormat::CycloneDx;
  return std::nullopt;
}

SbomFormat sbom_format_of(const std::string& format_word, const std::string& path) {
  if (!format_word.empty()) return parse_sbom_format(format_word);
  return sbom_format_for_path(path).value_or(SbomFormat::Spdx);
}

std::string sbom_media_type(SbomFormat format) {
  return format == SbomFormat::Spdx ? "application/spdx+json" : "application/vnd.cyclonedx+json";
}

std::string sbom_file_name(SbomFormat format) {
  return format == SbomFormat::Spdx ? "sbom.spdx.json" : "sbom.cdx.json";
}

OsRelease parse_os_release(const std::string& text) {
  OsRelease os;
  for (const std::string& line : split_any(text, "\n")) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'') && value.back() == value[0])
      value = value.substr(1, value.size() - 2);
    if (key == "ID") os.id = value;
    if (key == "VERSION_ID") os.version_id = value;
  }
  return os;
}

std::string sbom_created(std::optional<int64_t> source_date_epoch, const std::string& image_created) {
  if (source_date_epoch) {
    std::time_t t = static_cast<std::time_t>(*source_date_epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  // "2024-01-02T03:04:05.123456789Z" -> "2024-01-02T03:04:05Z" (UTC only:
  // an offset would need converting, and the epoch is the honest fallback).
  const std::string& c = image_created;
  bool shaped = c.size() >= 20 && c[4] == '-' && c[7] == '-' && c[10] == 'T' && c[13] == ':' && c[16] == ':' &&
                c.back() == 'Z';
  return shaped ? c.substr(0, 19) + "Z" : "1970-01-01T00:00:00Z";
}

namespace {

// purl-spec: a segment percent-encodes every byte but A-Z a-z 0-9 . - _ ~.
std::string purl_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string digest_hex(const std::string& digest) {
  size_t colon = digest.find(':');
  return colon == std::string::npos ? digest : digest.substr(colon + 1);
}

// An SPDX idstring holds letters, digits, '.' and '-'.
std::string spdx_id_part(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) || c == '.' || c == '-' ? static_cast<char>(c) : '-';
  return out;
}

std::string tool(const SbomDocument& d) { return "slimage-" + d.tool_version; }

std::string file_line(const SbomFile& f) {
  return std::string(f.removed ? "removed " : "changed ") + f.path + " (" + f.reason + ")";
}

}  // namespace

std::string package_url(const InstalledPackage& p, const OsRelease& os) {
  std::string distro = os.version_id.empty() ? "" : "distro=" + purl_encode(lower(os.id) + "-" + os.version_id);
  auto with = [&](std::string url, const std::vector<std::string>& qualifiers) {
    std::string q;
    for (auto& x : qualifiers)
      if (!x.empty()) q += (q.empty() ? "?" : "&") + x;
    return url + q;
  };
  std::string arch = p.arch.empty() ? "" : "arch=" + purl_encode(p.arch);
  if (p.database == "dpkg") {
    std::string vendor = os.id.empty() ? "debian" : lower(os.id);
    return with("pkg:deb/" + purl_encode(vendor) + "/" + purl_encode(p.name) + "@" + purl_encode(p.version),
                {arch, distro});
  }
  if (p.database == "apk") {
    std::string vendor = os.id.empty() ? "alpine" : lower(os.id);
    return with("pkg:apk/" + purl_encode(vendor) + "/" + purl_encode(lower(p.name)) + "@" + purl_encode(p.version),
                {arch, distro});
  }
  return "pkg:pypi/" + purl_encode(normalize_python_name(p.name)) + "@" + purl_encode(p.version);
}

nlohmann::json spdx_json(const SbomDocument& d) {
  nlohmann::json packages = nlohmann::json::array(), relationships = nlohmann::json::array();
  for (size_t i = 0; i < d.images.size(); ++i) {
    const SbomImage& image = d.images[i];
    std::string image_id = "SPDXRef-Image-" + std::to_string(i);
    nlohmann::json annotations = nlohmann::json::array();
    for (auto& f : image.files)
      annotations.push_back({{"annotationDate", d.created}, {"annotationType", "OTHER"},
                             {"annotator", "Tool: " + tool(d)}, {"comment", file_line(f)}});
    nlohmann::json container = {{"SPDXID", image_id},
                                {"name", image.name},
                                {"versionInfo", image.manifest_digest},
                                {"downloadLocation", "NOASSERTION"},
                                {"filesAnalyzed", false},
                                {"primaryPackagePurpose", "CONTAINER"},
                                {"comment", "platform " + image.platform + "; " + std::to_string(image.files.size()) +
                                                " files removed or changed by slimage (annotations)"}};
    if (!annotations.empty()) container["annotations"] = annotations;
    packages.push_back(container);
    relationships.push_back(
        {{"spdxElementId", "SPDXRef-DOCUMENT"}, {"relationshipType", "DESCRIBES"}, {"relatedSpdxElement", image_id}});
    for (size_t k = 0; k < image.packages.size(); ++k) {
      const InstalledPackage& p = image.packages[k];
      std::string id = "SPDXRef-Package-" + std::to_string(i) + "-" + p.database + "-" + spdx_id_part(p.name) + "-" +
                       std::to_string(k);
      nlohmann::json pkg = {{"SPDXID", id},
                            {"name", p.name},
                            {"versionInfo", p.version},
                            {"downloadLocation", "NOASSERTION"},
                            {"filesAnalyzed", false},
                            {"licenseConcluded", "NOASSERTION"},
                            {"copyrightText", "NOASSERTION"},
                            {"externalRefs", {{{"referenceCategory", "PACKAGE-MANAGER"},
                                               {"referenceType", "purl"},
                                               {"referenceLocator", package_url(p, image.os)}}}}};
      // Only an SPDX expression may stand in licenseDeclared; Debian's
      // copyright short names ("GPL-2+") are not, so they go in a comment.
      if (p.license_is_spdx && !p.licenses.empty()) {
        pkg["licenseDeclared"] = p.licenses[0];
      } else {
        pkg["licenseDeclared"] = "NOASSERTION";
        std::string names;
        for (auto& l : p.licenses) names += (names.empty() ? "" : ", ") + l;
        if (!names.empty()) pkg["licenseComments"] = "declared by the package: " + names;
      }
      if (p.files_removed)
        pkg["comment"] = std::to_string(p.files_removed) + " of its files removed by slimage";
      packages.push_back(pkg);
      relationships.push_back({{"spdxElementId", image_id}, {"relationshipType", "CONTAINS"}, {"relatedSpdxElement", id}});
    }
  }
  std::string name = d.images.empty() ? "image" : d.images[0].name;
  return {{"spdxVersion", "SPDX-2.3"},
          {"dataLicense", "CC0-1.0"},
          {"SPDXID", "SPDXRef-DOCUMENT"},
          {"name", name},
          {"documentNamespace", "https://slimage.invalid/spdx/sha256-" + digest_hex(d.root_digest)},
          {"creationInfo", {{"created", d.created}, {"creators", {"Tool: " + tool(d)}}}},
          {"packages", packages},
          {"relationships", relationships}};
}

namespace {

// urn:uuid:… from the root digest, shaped as a version-5 UUID (the schema's pattern).
std::string serial_number(const std::string& root_digest) {
  std::string h = digest_hex(root_digest);
  h.resize(32, '0');
  h[12] = '5';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // the RFC 4122 variant
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

nlohmann::json cyclonedx_component(const InstalledPackage& p, const OsRelease& os, const std::string& ref_prefix) {
  std::string purl = package_url(p, os);
  nlohmann::json c = {{"type", "library"}, {"bom-ref", ref_prefix + purl}, {"name", p.name},
                      {"version", p.version}, {"purl", purl}};
  nlohmann::json licenses = nlohmann::json::array();
  if (p.license_is_spdx && !p.licenses.empty()) licenses.push_back({{"expression", p.licenses[0]}});
  else
    for (auto& l : p.licenses) licenses.push_back({{"license", {{"name", l}}}});
  if (!licenses.empty()) c["licenses"] = licenses;
  nlohmann::json properties = {{{"name", "slimage:package-database"}, {"value", p.database}}};
  if (p.files_removed)
    properties.push_back({{"name", "slimage:files-removed"}, {"value", std::to_string(p.files_removed)}});
  c["properties"] = properties;
  return c;
}

nlohmann::json cyclonedx_image(const SbomImage& image, const std::string& ref) {
  nlohmann::json properties = {{{"name", "slimage:platform"}, {"value", image.platform}}};
  for (auto& f : image.files)
    properties.push_back({{"name", f.removed ? "slimage:removed" : "slimage:changed"}, {"value", f.path}});
  return {{"type", "container"}, {"bom-ref", ref}, {"name", image.name}, {"version", image.manifest_digest},
          {"properties", properties}};
}

}  // namespace

nlohmann::json cyclonedx_json(const SbomDocument& d) {
  nlohmann::json metadata = {
      {"timestamp", d.created},
      {"tools", {{"components", {{{"type", "application"}, {"name", "slimage"}, {"version", d.tool_version}}}}}}};
  nlohmann::json components = nlohmann::json::array();
  if (d.images.size() == 1) {
    // One image: it is the BOM's subject, its packages the components.
    metadata["component"] = cyclonedx_image(d.images[0], "image");
    for (auto& p : d.images[0].packages) components.push_back(cyclonedx_component(p, d.images[0].os, ""));
  } else {
    // Several platforms: each a container component holding its packages.
    std::string name = d.images.empty() ? "image" : d.images[0].name;
    metadata["component"] = {{"type", "container"}, {"bom-ref", "root"}, {"name", name}, {"version", d.root_digest}};
    for (size_t i = 0; i < d.images.size(); ++i) {
      std::string prefix = "image-" + std::to_string(i);
      nlohmann::json c = cyclonedx_image(d.images[i], prefix);
      nlohmann::json inner = nlohmann::json::array();
      for (auto& p : d.images[i].packages) inner.push_back(cyclonedx_component(p, d.images[i].os, prefix + "/"));
      c["components"] = inner;
      components.push_back(c);
    }
  }
  return {{"bomFormat", "CycloneDX"},
          {"specVersion", "1.5"},
          {"serialNumber", serial_number(d.root_digest)},
          {"version", 1},
          {"metadata", metadata},
          {"components", components}};
}

std::string render_sbom(const SbomDocument& document, SbomFormat format) {
  nlohmann::json j = format == SbomFormat::Spdx ? spdx_json(document) : cyclonedx_json(document);
  return json_text(j) + "\n";
}

}  // namespace slimage
