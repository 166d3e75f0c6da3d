// A small HTTP client over libcurl, just enough for the distribution API
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
// GET/HEAD/PUT/POST/PATCH/DELETE, bodies from memory or a file, responses into
// memory or streamed into a Writer. Retries 429/5xx and dropped connections with
// exponential backoff; follows redirects by hand so that the Authorization
// header is only ever sent to the host it was meant for (registries redirect
// blob GETs to object storage, which must not see registry credentials).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slimage/util/error.h"
#include "slimage/util/io.h"

namespace slimage::registry {

struct HttpOptions {
  bool tls_verify = true;
  std::string ca_file;           // PEM bundle to trust instead of the system's
  std::string ca_pem;            // PEM text to trust (--cert-dir), added to ca_file's role
  int max_tries = 5;             // per request, counting the first
  int initial_backoff_ms = 250;  // doubles after each failed try
  long connect_timeout_s = 30;
  long stall_timeout_s = 120;  // abort a transfer that moves no bytes this long
};

struct HttpRequest {
  explicit HttpRequest(std::string method_ = "GET", std::string url_ = {})
      : method(std::move(method_)), url(std::move(url_)) {}
  std::string method;
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Kept apart from `headers` so that it is dropped when a redirect leaves the
  // host, and never appears in a message.
  std::string authorization;
  std::string body;       // sent unless body_file is set
  std::string body_file;  // uploads this file's bytes
  bool follow_redirects = false;
  // Resumes a download: sends "Range: bytes=N-"; if the server answers 200
  // with the whole body anyway, its first N bytes are dropped before `out`.
  uint64_t resume_from = 0;
};

struct HttpResponse {
  long status = 0;
  std::string reason;                                        // "Not Found"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;  // the body, unless a 2xx body was streamed to a Writer
  std::string url;   // the URL that answered (after redirects)
  std::string header(std::string_view name) const;  // first value, "" if none
};

// A request that got no HTTP response at all (refused, TLS failure, reset…).
class HttpTransportError : public Error {
 public:
  HttpTransportError(const std::string& what, int curl_code, bool tls_handshake)
      : Error(what), curl_code_(curl_code), tls_handshake_(tls_handshake) {}
  int curl_code() const { return curl_code_; }
  // The TLS handshake failed: what an https request to a plain-http server gets.
  bool tls_handshake() const { return tls_handshake_; }

 private:
  int curl_code_;
  bool tls_handshake_;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and returns the final response, whatever its status.
  // A 2xx body goes to `out` if given (else into response.body). A request is
  // retried only while nothing has been written to `out`.
  // Throws HttpTransportError when no response came after every try.
  HttpResponse send(const HttpRequest& request, Writer* out = nullptr);

  const HttpOptions& options() const { return options_; }

 private:
  HttpResponse send_once(const HttpRequest& request, const std::string& url, bool with_auth,
                         Writer* out, uint64_t& streamed);
  struct Shared;
  HttpOptions options_;
  Shared* shared_;
};

// "https://a:5000/v2/x" -> "a:5000"; "" if the URL has no authority.
std::string url_authority(std::string_view url);
// Resolves `location` (absolute, or relative to `base`) as a redirect would.
std::string resolve_url(const std::string& base, const std::string& location);
// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view value);

}  // namespace slimage::registry
