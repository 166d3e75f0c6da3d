// An image's runtime facts from its config (include/slimage/image/runtime.h).
#include "slimage/image/runtime.h"

namespace slimage {

namespace {

const nlohmann::json& config_object(const ImageManifest& image) {
  static const nlohmann::json none;
  return image.config.is_object() && image.config.contains("config") ? image.config["config"] : none;
}

std::vector<std::string> string_list(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::string ImageRuntime::env_value(const std::string& name) const {
  std::string value;
  for (auto& e : env)  // a later entry overrides an earlier one
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      value = e.substr(name.size() + 1);
  return value;
}

ImageRuntime runtime_of(const ImageManifest& image) {
  ImageRuntime rt;
  const nlohmann::json& c = config_object(image);
  if (!c.is_object()) return rt;
  if (c.contains("Entrypoint")) rt.entrypoint = string_list(c["Entrypoint"]);
  if (c.contains("Cmd")) rt.cmd = string_list(c["Cmd"]);
  if (c.contains("Env")) rt.env = string_list(c["Env"]);
  if (c.contains("WorkingDir") && c["WorkingDir"].is_string())
    rt.working_dir = c["WorkingDir"].get<std::string>();
  return rt;
}

std::string runtime_user(const ImageManifest& image) {
  const nlohmann::json& c = config_object(image);
  return c.is_object() && c.contains("User") && c["User"].is_string() ? c["User"].get<std::string>() : "";
}

}  // namespace slimage
