// Read-ahead on a second thread: a stream's producer (e.g. digest check +
// inflate of a layer blob) runs while the consumer (diff_id hash, scratch
// write, tar parse) works on the previous chunk. Memory is bounded by
// chunk * depth. An error in the producer is rethrown by read() after the
// bytes that came before it.
#pragma once
#include <memory>

#include "slimage/util/io.h"

namespace slimage {

std::unique_ptr<Reader> read_ahead(std::unique_ptr<Reader> in, size_t chunk = 4 << 20,
                                   size_t depth = 4);

}  // namespace slimage
