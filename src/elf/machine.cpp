// machine_name: e_machine values as the text readelf prints for them.
// Spec: gABI "e_machine" table, https://www.sco.com/developers/gabi/latest/ch4.eheader.html
#include <cstdio>

#include "slimage/elf/elf.h"

namespace slimage {

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case 0: return "none";
    case 2: return "SPARC";
    case 3: return "x86";
    case 4: return "m68k";
    case 8: return "MIPS";
    case 10: return "MIPS RS3000 LE";
    case 15: return "PA-RISC";
    case 18: return "SPARC32+";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 42: return "SuperH";
    case 43: return "SPARC V9";
    case 50: return "IA-64";
    case 62: return "x86-64";
    case 183: return "AArch64";
    case 190: return "CUDA";
    case 224: return "AMDGPU";
    case 243: return "RISC-V";
    case 247: return "BPF";
    case 258: return "LoongArch";
  }
  char text[32];
  std::snprintf(text, sizeof text, "machine 0x%x", machine);
  return text;
}

}  // namespace slimage
