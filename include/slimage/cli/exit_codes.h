// The exit codes of the slimage command (README "Use"). Only the CLI picks
// them: the library returns values and throws slimage::Error.
#pragma once

namespace slimage {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // bad input, I/O failure
  kExitUsage = 2,          // a bad option, profile, platform, transport or path
  kExitVerifyFailed = 3,   // the slimmed closure has missing libraries
  kExitSmokeFailed = 4,    // --test passed before and failed after
  kExitGateFailed = 5,     // check / slim --check: a rule failed (nothing written)
  kExitInterrupted = 130,
};

}  // namespace slimage
