// The libcurl-backed HTTP client (see include/slimage/registry/http.h). One easy
// handle per request; connections, DNS and TLS sessions are shared between
// threads through a CURLSH so parallel blob transfers reuse connections.
// Redirects are followed here, not by curl, so Authorization can be dropped
// when a redirect leaves the registry's host (e.g. to a storage bucket).
#include "slimage/registry/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace slimage::registry {

namespace {

constexpr size_t kErrorBodyLimit = 1 << 20;
constexpr int kMaxRedirects = 10;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

// Per-transfer state seen by curl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  Writer* out = nullptr;
  uint64_t* streamed = nullptr;
  uint64_t skip = 0;  // body bytes still to drop (a 200 answer to a Range request)
  bool body_started = false;
  std::string callback_error;  // an exception from `out`, rethrown after perform
  FILE* upload_file = nullptr;
  std::string_view upload_body;
  size_t upload_pos = 0;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue): start over
    t->response->headers.clear();
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    t->response->reason = sp2 == std::string_view::npos ? "" : trim(line.substr(sp2 + 1));
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                      trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && t->out) {
    if (!t->body_started) {
      t->body_started = true;
      if (status != 200) t->skip = 0;  // 206: the server resumed where asked
    }
    size_t drop = static_cast<size_t>(std::min<uint64_t>(t->skip, n));
    t->skip -= drop;
    if (drop == n) return n;
    try {
      t->out->write(data + drop, n - drop);
      *t->streamed += n - drop;
    } catch (const std::exception& e) {
      t->callback_error = e.what();
      return 0;  // aborts the transfer
    }
    return n;
  }
  if (status >= 300 && status < 400) return n;  // a redirect's body is noise
  if (t->response->body.size() + n > kErrorBodyLimit && !(status >= 200 && status < 300))
    return n;  // keep the start of an error page, drop the rest
  t->response->body.append(data, n);
  return n;
}

size_t on_upload(char* buf, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->upload_file) return std::fread(buf, 1, n, t->upload_file);
  size_t k = std::min(n, t->upload_body.size() - t->upload_pos);
  std::copy_n(t->upload_body.data() + t->upload_pos, k, buf);
  t->upload_pos += k;
  return k;
}

bool retryable_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

struct HttpClient::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  global_init();
  shared_ = new Shared;
  shared_->share = curl_share_init();
  curl_share_setopt(
      shared_->share, CURLSHOPT_LOCKFUNC,
      +[](CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<Shared*>(user)->locks[data].lock();
      });
  curl_share_setopt(
      shared_->share, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data data, void* user) {
        static_cast<Shared*>(user)->locks[data].unlock();
      });
  curl_share_setopt(shared_->share, CURLSHOPT_USERDATA, shared_);
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

HttpClient::~HttpClient() {
  curl_share_cleanup(shared_->share);
  delete shared_;
}

std::string HttpResponse::header(std::string_view name) const {
  std::string key = lower(name);
  for (auto& [k, v] : headers)
    if (k == key) return v;
  return {};
}

HttpResponse HttpClient::send_once(const HttpRequest& request, const std::string& url,
                                   bool with_auth, Writer* out, uint64_t& streamed) {
  HttpResponse response;
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) fail(request.method + " " + url + ": cannot create a curl handle");
  Transfer t;
  t.curl = curl.get();
  t.response = &response;
  t.out = out;
  t.streamed = &streamed;
  t.skip = request.resume_from;

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(c, CURLOPT_USERAGENT, "slimage/" SLIMAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  curl_slist* headers = nullptr;
  for (auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  std::string range;
  if (request.resume_from > 0) {
    range = "Range: bytes=" + std::to_string(request.resume_from) + "-";
    headers = curl_slist_append(headers, range.c_str());
  }
  std::string auth_header;
  if (with_auth && !request.authorization.empty()) {
    auth_header = "Authorization: " + request.authorization;
    headers = curl_slist_append(headers, auth_header.c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, std::fclose);
  const std::string& m = request.method;
  if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (m == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (m == "PUT" || m == "PATCH") {
    curl_off_t size = static_cast<curl_off_t>(request.body.size());
    if (!request.body_file.empty()) {
      file.reset(std::fopen(request.body_file.c_str(), "rb"));
      if (!file) fail(request.body_file + ": cannot open for upload");
      std::fseek(file.get(), 0, SEEK_END);
      size = std::ftell(file.get());
      std::rewind(file.get());
      t.upload_file = file.get();
    } else {
      t.upload_body = request.body;
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    if (m != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
  } else if (m != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
  }

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode code = curl_easy_perform(c);
  if (!t.callback_error.empty()) fail(t.callback_error);
  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
    bool tls = code == CURLE_SSL_CONNECT_ERROR;
    throw HttpTransportError(m + " " + url + ": " + detail, static_cast<int>(code), tls);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  response.url = url;
  return response;
}

HttpResponse HttpClient::send(const HttpRequest& request, Writer* out) {
  std::string url = request.url;
  std::string origin = url_authority(url);
  bool with_auth = true;
  int backoff_ms = options_.initial_backoff_ms;
  int redirects = 0;
  for (int attempt = 1;; attempt++) {
    uint64_t streamed = 0;
    HttpResponse response;
    try {
      response = send_once(request, url, with_auth, out, streamed);
    } catch (const HttpTransportError& e) {
      bool retry = retryable_curl_code(static_cast<CURLcode>(e.curl_code())) && streamed == 0 &&
                   attempt < options_.max_tries;
      if (!retry) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms *= 2;
      continue;
    }
    long s = response.status;
    bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    if (redirect && request.follow_redirects && !response.header("location").empty()) {
      if (++redirects > kMaxRedirects)
        fail(request.method + " " + request.url + ": too many redirects");
      url = resolve_url(url, response.header("location"));
      // Credentials belong to the registry: never hand them to another host.
      if (url_authority(url) != origin) with_auth = false;
      attempt--;  // a redirect is not a failed try
      continue;
    }
    if (retryable_status(s) && attempt < options_.max_tries) {
      int wait_ms = backoff_ms;
      std::string retry_after = response.header("retry-after");
      if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(), ::isdigit))
        wait_ms = std::min(std::stoi(retry_after.substr(0, 4)), 30) * 1000;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      backoff_ms *= 2;
      continue;
    }
    return response;
  }
}

std::string url_authority(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  url.remove_prefix(scheme + 3);
  auto end = url.find_first_of("/?#");
  return lower(url.substr(0, end));
}

std::string resolve_url(const std::string& base, const std::string& location) {
  CURLU* u = curl_url();
  std::string out = location;
  if (u && curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char* s = nullptr;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
      out = s;
      curl_free(s);
    }
  }
  curl_url_cleanup(u);
  return out;
}

std::string url_encode(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace slimage::registry
