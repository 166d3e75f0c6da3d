// The transport factories declared in image/image.h. They live here, in the
// registry module, because it is the first module that sees every transport:
// the file transports of src/image/ and the docker:// transport of src/registry/.
#include "slimage/image/image.h"
#include "slimage/registry/registry.h"
#include "slimage/util/error.h"

namespace slimage {

std::unique_ptr<Source> open_source(const ImageRef& ref, const TransportOptions& options) {
  switch (ref.transport) {
    case Transport::Oci:
      return open_oci_source(ref.path, ref.ref);
    case Transport::OciArchive:
      return open_oci_archive_source(ref.path, ref.ref);
    case Transport::DockerArchive:
      return open_docker_archive_source(ref.path, ref.ref);
    case Transport::Docker:
      return registry::open_registry_source(ref, options);
  }
  throw Error(ref.to_string() + ": unknown transport");
}

std::unique_ptr<Sink> open_sink(const ImageRef& ref, const TransportOptions& options) {
  switch (ref.transport) {
    case Transport::Oci:
      return open_oci_sink(ref.path, ref.ref);
    case Transport::OciArchive:
      return open_oci_archive_sink(ref.path, ref.ref);
    case Transport::DockerArchive:
      return open_docker_archive_sink(ref.path, ref.ref);
    case Transport::Docker:
      return registry::open_registry_sink(ref, options);
  }
  throw Error(ref.to_string() + ": unknown transport");
}

}  // namespace slimage
