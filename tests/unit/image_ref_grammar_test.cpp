// Output refs by their transport's grammar (src/image/ref_grammar.cpp): the
// OCI ref.name annotation grammar and distribution's repository and tag.
#include <doctest/doctest.h>

#include "slimage/image/image.h"

using namespace slimage;

TEST_CASE("image: output refs follow the OCI ref.name grammar") {
  for (const char* ok : {"oci:/x/img:latest", "oci:/x/img:a/b-c.d_e:f@g+h", "oci:/x/img:a--b",
                         "oci:/x/img", "oci-archive:/x/a.tar:v1.0"})
    CHECK_MESSAGE(output_ref_problem(std::string_view(ok)).empty(), ok);
  CHECK(output_ref_problem(std::string_view("oci:/x/img:../../x")) ==
        "\"oci:/x/img:../../x\": ref name '../../x' is not valid for an OCI layout "
        "(image-spec annotations.md: components of [A-Za-z0-9] joined by one of -._:@+ or --, "
        "separated by '/')");
  for (const char* bad : {"oci:/x/img:a/../../b:c", "oci:/x/img:a//b", "oci:/x/img:a/", "oci:/x/img:-a",
                          "oci:/x/img:a---b", "oci:/x/img:a b", "oci-archive:/x/a.tar:..", "oci:/x/img:a\nb"})
    CHECK_MESSAGE(output_ref_problem(std::string_view(bad)).find("is not valid for an OCI layout") !=
                      std::string::npos,
                  bad);
}

TEST_CASE("image: docker output refs follow distribution's repository and tag grammar") {
  for (const char* ok : {"docker://localhost:5000/a/b:c", "docker://reg.example.com/a__b/c-d---e.f:1_x",
                         "docker://alpine", "docker://[::1]:5000/x:y",
                         "docker-archive:/x/a.tar:repo/name:tag", "docker-archive:/x/a.tar"})
    CHECK_MESSAGE(output_ref_problem(std::string_view(ok)).empty(), ok);
  CHECK(output_ref_problem(std::string_view("docker://localhost:5000/a/../../b:c")) ==
        "\"docker://localhost:5000/a/../../b:c\": repository 'a/../../b' is not valid (lowercase "
        "letters and digits, separated by '.', '_', '__' or '-', components joined by '/')");
  CHECK(output_ref_problem(std::string_view("docker://localhost:5000/a:.bad")) ==
        "\"docker://localhost:5000/a:.bad\": tag '.bad' is not valid ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  CHECK(output_ref_problem(std::string_view("docker://-bad.example/a:b")).find("registry host '-bad.example'") !=
        std::string::npos);
  CHECK(output_ref_problem(std::string_view("docker-archive:/x/a.tar:../../x")).find("is not valid") !=
        std::string::npos);
  CHECK(output_ref_problem(std::string_view("docker://Upper/x")).empty() == false);
  CHECK(output_ref_problem(std::string_view("docker://localhost/" + std::string(250, 'a'))) ==
        "\"docker://localhost/" + std::string(250, 'a') + "\": repository name longer than 255 bytes");
}
