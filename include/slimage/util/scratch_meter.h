// Scratch bytes, measured: every byte slimage writes outside the destination
// (decoded layer tars, staged output layers, --test roots, copies of reused
// blobs) is charged to the file it went to as it is written, and credited
// back when it is freed (a hole punched over dropped content, a staged blob
// renamed into the destination, a scratch dir removed). The meter keeps the
// bytes in use now and the peak since the last reset, process-wide: the
// numbers the report and the summary print. Logical bytes, not blocks: a
// filesystem's block rounding and metadata are not counted.
#pragma once
#include <cstdint>
#include <string>

namespace slimage {

// `bytes` more were written to `path` (a file under a scratch dir).
void scratch_charge(const std::string& path, uint64_t bytes);
// `bytes` of `path` were freed (a hole punched); never below zero.
void scratch_credit(const std::string& path, uint64_t bytes);
// `path` left scratch (removed, or renamed into the destination): whatever
// it was charged is credited back.
void scratch_forget(const std::string& path);
// Every file charged under `dir` (a scratch dir being removed).
void scratch_forget_tree(const std::string& dir);

uint64_t scratch_in_use();
uint64_t scratch_peak();
// Starts a new peak from what is in use now (each slim run, and tests).
void scratch_reset_peak();

}  // namespace slimage
