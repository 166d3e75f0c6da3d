// `slimage slim SRC DST`: runs the pipeline (src/slim/pipeline.cpp) once,
// shows its stages on stderr, prints the refusal or the summary, writes
// --report and picks the exit code.
#include <cstdio>

#include "session.h"
#include "slimage/util/file.h"

namespace slimage {

int run_slim(const Command& cmd) {
  Progress progress(cmd.common.quiet);
  SlimResult result = slim(cmd.slim, slim_context(cmd.common), progress);
  if (result.refusal) return print_refusal(*result.refusal, cmd.common.quiet);
  for (auto& s : result.summaries) std::fputs(summary_text(s).c_str(), stdout);
  if (!cmd.slim.report.empty()) write_file_atomic(cmd.slim.report, result.report.dump(2) + "\n");
  return kExitOk;
}

}  // namespace slimage
