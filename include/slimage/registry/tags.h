// Listing a repository's tags: GET /v2/<repo>/tags/list, following the
// pagination the spec describes (a `Link: <url>; rel="next"` header).
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "slimage/image/image.h"

namespace slimage::registry {

// Every tag of the repository named by `ref` (its tag or digest is ignored),
// in the registry's order. Throws Error("<repo>: list tags: …").
std::vector<std::string> list_tags(const ImageRef& ref, const TransportOptions& options);

// The target of the rel="next" link in a Link header value, "" if none:
//   </v2/app/tags/list?last=b&n=2>; rel="next"  ->  /v2/app/tags/list?last=b&n=2
std::string next_link(std::string_view link_header);

}  // namespace slimage::registry
