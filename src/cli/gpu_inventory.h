// `slimage inspect`: the GPU code of the whole image by target (what a user
// looks at to choose --cuda-arch), from every ELF's fat binaries.
#pragma once
#include <nlohmann/json.hpp>

#include "slimage/rootfs/fs_view.h"

namespace slimage {

// {"libraries": N, "bytes": B, "by_code": {"sm_90 cubin": bytes, …},
//  "largest": [{"path", "bytes", "by_code"}…]}; "libraries" 0 when none.
nlohmann::json gpu_inventory_json(const FsView& fs, unsigned jobs);

// The inspect lines for it ("" when the image holds no GPU code).
std::string gpu_inventory_text(const nlohmann::json& inventory);

}  // namespace slimage
