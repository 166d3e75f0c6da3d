// `--test` pieces (include/slimage/slim/test_command.h): argv splitting with
// POSIX quoting and no shell, shell syntax spotted, the image's User
// resolved through the image's passwd/group text, the container env, and
// clipped output.
#include <doctest/doctest.h>

#include "slimage/slim/test_command.h"
#include "slimage/util/error.h"

using namespace slimage;

namespace {
using Words = std::vector<std::string>;
const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1234:2345:App:/home/app:/bin/false\n"
                      "nohome:x:77:88::\n";
const char* kGroup = "root:x:0:\napp:x:2345:\nextra:x:3456:root,app\nvideo:x:44:nohome,app\nstaff:x:50:\n";
}  // namespace

TEST_CASE("test command: words split on blanks with quotes and backslashes, no expansion") {
  auto s = split_command("  ./show 'two  words' \"dq \\\"x\\\" \\\\ \\n\" back\\ slash a''b \"\" ");
  CHECK(s.argv == Words{"./show", "two  words", "dq \"x\" \\ \\n", "back slash", "ab", ""});
  CHECK(s.shell_syntax == "");
  CHECK(split_command("echo '$HOME | x; y > z' \\$ \\|").shell_syntax == "");
  CHECK(split_command("echo '$HOME | x; y > z' \\$ \\|").argv == Words{"echo", "$HOME | x; y > z", "$", "|"});
  CHECK(split_command("   ").argv.empty());
}

TEST_CASE("test command: shell syntax outside quotes is named") {
  CHECK(split_command("a | b").shell_syntax == "|");
  CHECK(split_command("a && b").shell_syntax == "&&");
  CHECK(split_command("a; b").shell_syntax == ";");
  CHECK(split_command("a >> f").shell_syntax == ">>");
  CHECK(split_command("a <f").shell_syntax == "<");
  CHECK(split_command("echo $HOME").shell_syntax == "$");
  CHECK(split_command("echo \"$HOME\"").shell_syntax == "$");
  CHECK(split_command("echo `id`").shell_syntax == "`");
  CHECK(split_command("ls *.so").shell_syntax == "*");
  CHECK(split_command("ls ~/x").shell_syntax == "~");
  CHECK(split_command("FOO=1 prog").shell_syntax == "FOO=");
  CHECK(split_command("prog FOO=1").shell_syntax == "");
  CHECK(split_command("prog a~b x#y").shell_syntax == "");
}

TEST_CASE("test command: unterminated quotes and a trailing backslash are errors") {
  CHECK_THROWS_WITH_AS(split_command("echo 'x"), "--test 'echo 'x': unterminated ' quote", Error);
  CHECK_THROWS_WITH_AS(split_command("echo \"x"), "--test 'echo \"x': unterminated \" quote", Error);
  CHECK_THROWS_WITH_AS(split_command("echo x\\"), "--test 'echo x\\': trailing backslash", Error);
}

TEST_CASE("test command: the image user by name, with its groups and home, from the image's files") {
  ImageUser u = resolve_image_user("app", kPasswd, kGroup);
  CHECK(u.uid == 1234);
  CHECK(u.gid == 2345);
  CHECK(u.groups == std::vector<uint32_t>{3456, 44});
  CHECK(u.home == "/home/app");
  CHECK(u.name == "app");
  ImageUser root = resolve_image_user("", kPasswd, kGroup);  // no User: root
  CHECK(root.uid == 0);
  CHECK(root.home == "/root");
  CHECK(root.groups == std::vector<uint32_t>{3456});
  CHECK(resolve_image_user("nohome", kPasswd, kGroup).home == "/");
}

TEST_CASE("test command: numeric users need no entry; explicit groups replace supplementary ones") {
  ImageUser a = resolve_image_user("4242", kPasswd, kGroup);
  CHECK(a.uid == 4242);
  CHECK(a.gid == 0);
  CHECK(a.home == "/");
  CHECK(a.groups.empty());
  ImageUser b = resolve_image_user("1234:50", kPasswd, kGroup);
  CHECK(b.uid == 1234);
  CHECK(b.gid == 50);
  CHECK(b.groups.empty());
  CHECK(resolve_image_user("app:staff", kPasswd, kGroup).gid == 50);
  CHECK(resolve_image_user("4242:4343", "", "").gid == 4343);
}

TEST_CASE("test command: a user or group missing from the image is an error naming it") {
  CHECK_THROWS_WITH_AS(resolve_image_user("nobody", kPasswd, kGroup),
                       "image User 'nobody': no user 'nobody' in the image's /etc/passwd", Error);
  CHECK_THROWS_WITH_AS(resolve_image_user("app:wheel", kPasswd, kGroup),
                       "image User 'app:wheel': no group 'wheel' in the image's /etc/group", Error);
  CHECK_THROWS_WITH_AS(resolve_image_user("app", "", ""),
                       "image User 'app': no user 'app' in the image's /etc/passwd", Error);
}

TEST_CASE("test command: the container env is the config's, plus PATH and HOME when unset") {
  ImageUser u;
  u.home = "/home/app";
  CHECK(container_env({"LD_LIBRARY_PATH=/opt/x"}, u) ==
        Words{"LD_LIBRARY_PATH=/opt/x", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "HOME=/home/app"});
  CHECK(container_env({"PATH=/bin", "HOME=/srv", "PATHX=1"}, u) == Words{"PATH=/bin", "HOME=/srv", "PATHX=1"});
}

TEST_CASE("test command: long output keeps its head and tail around a count") {
  CHECK(clip_output("short", 2, 2) == "short");
  std::string big = std::string(100, 'a') + std::string(100, 'b') + std::string(100, 'c');
  CHECK(clip_output(big, 10, 20) == std::string(10, 'a') + "\n[… 270 bytes cut …]\n" + std::string(20, 'c'));
}
