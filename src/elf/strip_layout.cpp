// The strip writer's second half: the output layout. Everything up to the
// last byte a segment, an alloc section or the program header table covers is
// one range of the input, so the loader's view is byte-for-byte the same; kept
// non-alloc sections follow at their sh_addralign, then a new section header
// table. Quirks: removing sections renumbers the rest, so sh_link, sh_info
// and .symtab's st_shndx are rewritten; counts >= SHN_LORESERVE go into
// section 0 (e_shnum 0, e_shstrndx SHN_XINDEX). Data after the last section
// (self-extracting payloads) is not ours to drop: such files are refused.
// Spec: gABI ch. 4, https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.sheader.html
#include <algorithm>

#include "strip_planner.h"
#include "slimage/util/error.h"

namespace slimage {
namespace elf_detail {
namespace {

bool align_up(uint64_t value, uint64_t align, uint64_t* out) {
  if (align <= 1) {
    *out = value;
    return true;
  }
  uint64_t bumped;
  if (!checked_add(value, align - 1, &bumped)) return false;
  *out = bumped / align * align;
  return true;
}

void add_range(StripResult* result, uint64_t offset, uint64_t length) {
  if (length > 0) result->pieces.push_back({offset, length, {}});
}
void add_bytes(StripResult* result, std::string bytes) {
  if (!bytes.empty()) result->pieces.push_back({0, 0, std::move(bytes)});
}

}  // namespace

bool StripPlanner::lay_out(StripResult* result) {
  const size_t n = sections_.size();
  new_offset_.resize(n);
  new_contents_.assign(n, {});
  uint64_t fixed_end = header_.ehsize;
  auto cover = [&](uint64_t offset, uint64_t length) {
    uint64_t end;
    if (!checked_add(offset, length, &end) || end > in_.size()) return false;
    fixed_end = std::max(fixed_end, end);
    return true;
  };
  uint64_t phdr_table;
  if (header_.phoff != 0 && header_.phnum != 0) {
    if (header_.phentsize < layout_.phdr_size() ||
        !checked_mul(header_.phnum, header_.phentsize, &phdr_table) ||
        !cover(header_.phoff, phdr_table))
      return refuse("program header table past end of file");
    for (uint64_t i = 0; i < header_.phnum; ++i) {
      uint64_t at = header_.phoff + i * header_.phentsize;
      if (!cover(in_.word(at + layout_.p_offset()), in_.word(at + layout_.p_filesz())))
        return refuse("segment past end of file");
    }
  }
  for (const ElfSection& s : sections_)
    if ((s.flags & kShfAlloc) && s.type != kShtNobits) cover(s.offset, s.size);

  // .symtab's st_shndx must follow its sections' new numbers.
  for (size_t i = 1; i < n; ++i)
    if (!removed_[i] && sections_[i].type == kShtSymtab && !renumber_symbols(i, &new_contents_[i]))
      return false;

  std::vector<size_t> order;
  for (size_t i = 1; i < n; ++i)
    if (!removed_[i] && !(sections_[i].flags & kShfAlloc)) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sections_[a].offset < sections_[b].offset; });
  auto has_bytes = [&](size_t i) { return sections_[i].type != kShtNobits && sections_[i].size > 0; };
  auto in_place = [&](size_t i) {
    return has_bytes(i) && new_contents_[i].empty() && sections_[i].offset < fixed_end;
  };
  for (size_t i : order)
    if (in_place(i)) cover(sections_[i].offset, sections_[i].size);

  uint64_t covered = fixed_end, table_end;
  for (const ElfSection& s : sections_)
    if (s.type != kShtNobits) covered = std::max(covered, s.offset + s.size);
  checked_add(header_.shoff, header_.shentsize * n, &table_end);
  if (std::max(covered, table_end) < in_.size())
    return refuse("data after the last section (an appended payload?)");

  std::string ehdr(reinterpret_cast<const char*>(in_.data()), header_.ehsize);
  result->pieces.push_back({0, 0, std::move(ehdr)});
  add_range(result, header_.ehsize, fixed_end - header_.ehsize);
  uint64_t position = fixed_end;
  for (size_t i = 0; i < n; ++i) new_offset_[i] = sections_[i].offset;
  for (size_t i : order) {
    const ElfSection& s = sections_[i];
    if (in_place(i)) continue;
    if (!has_bytes(i)) {
      new_offset_[i] = std::min(s.offset, position);
      continue;
    }
    uint64_t start;
    if (!align_up(position, s.addralign, &start) || start - position > (1u << 20))
      return refuse(s.name + ": unreasonable sh_addralign");
    add_bytes(result, std::string(start - position, '\0'));
    new_offset_[i] = start;
    if (!new_contents_[i].empty())
      add_bytes(result, std::move(new_contents_[i]));
    else
      add_range(result, s.offset, s.size);
    position = start + s.size;
  }
  result->output_size = position;
  return true;
}

bool StripPlanner::write_section_headers(StripResult* result) {
  const size_t n = sections_.size();
  const unsigned w = layout_.word();
  const bool big = in_.big_endian();
  uint64_t table_offset = 0;
  align_up(result->output_size, w, &table_offset);
  add_bytes(result, std::string(table_offset - result->output_size, '\0'));

  const uint64_t entsize = header_.shentsize;
  std::string table;
  table.reserve(kept_count_ * entsize);
  const uint32_t new_strndx = header_.shstrndx < n ? new_index_[header_.shstrndx] : 0;
  for (size_t i = 0; i < n; ++i) {
    if (removed_[i]) continue;
    const uint64_t at = table.size();
    table.append(reinterpret_cast<const char*>(in_.data() + header_.shoff + i * entsize), entsize);
    const ElfSection& s = sections_[i];
    if (i == 0) {
      put_uint(table, at + layout_.sh_size(), w, kept_count_ >= kShnLoreserve ? kept_count_ : 0, big);
      put_uint(table, at + layout_.sh_link(), 4, new_strndx >= kShnLoreserve ? new_strndx : 0, big);
      continue;
    }
    put_uint(table, at + layout_.sh_offset(), w, new_offset_[i], big);
    put_uint(table, at + layout_.sh_link(), 4, zero_link_[i] ? 0 : new_index_[s.link], big);
    if (info_is_section(s) && s.info != 0)
      put_uint(table, at + layout_.sh_info(), 4, new_index_[s.info], big);
  }
  std::string& ehdr = result->pieces.front().bytes;
  put_uint(ehdr, layout_.e_shoff(), w, table_offset, big);
  put_uint(ehdr, layout_.e_shnum(), 2, kept_count_ >= kShnLoreserve ? 0 : kept_count_, big);
  put_uint(ehdr, layout_.e_shstrndx(), 2, new_strndx >= kShnLoreserve ? kShnXindex : new_strndx, big);
  result->output_size = table_offset + table.size();
  add_bytes(result, std::move(table));
  return true;
}

// Rewrites st_shndx in a copy of the symbol table when sections it names
// were renumbered; leaves *out empty when nothing changes.
bool StripPlanner::renumber_symbols(size_t symtab, std::string* out) {
  const ElfSection& s = sections_[symtab];
  const size_t n = sections_.size();
  size_t first_shifted = n;
  for (size_t i = 0; i < n; ++i)
    if (!removed_[i] && new_index_[i] != i) {
      first_shifted = i;
      break;
    }
  if (first_shifted == n) return true;
  const uint64_t entsize = s.entsize;
  if (entsize < layout_.sym_size() || !in_.contains(s.offset, s.size))
    return refuse(s.name + ": bad sh_entsize");
  for (size_t i = 1; i < n; ++i)
    if (!removed_[i] && sections_[i].type == kShtSymtabShndx && sections_[i].link == symtab)
      return refuse(s.name + ": extended section indices need renumbering");
  const uint64_t count = s.size / entsize;
  for (uint64_t k = 0; k < count; ++k) {
    const uint64_t field = k * entsize + layout_.st_shndx();
    const uint16_t shndx = in_.u16(s.offset + field);
    if (shndx == 0 || shndx >= kShnLoreserve || shndx < first_shifted) continue;
    if (shndx >= n) return refuse(s.name + ": symbol section index out of range");
    if (removed_[shndx])
      return refuse(s.name + ": a symbol refers to removed section " + sections_[shndx].name);
    if (out->empty()) out->assign(reinterpret_cast<const char*>(in_.data() + s.offset), s.size);
    put_uint(*out, field, 2, new_index_[shndx], in_.big_endian());
  }
  return true;
}

}  // namespace elf_detail

void write_stripped(std::span<const uint8_t> bytes, const StripResult& result, Writer& out) {
  // FileWriter buffers whole writes; chunks keep a 500 MB library out of memory.
  constexpr uint64_t kChunk = 1 << 20;
  for (const StripPiece& piece : result.pieces) {
    if (!piece.bytes.empty()) {
      out.write(piece.bytes.data(), piece.bytes.size());
      continue;
    }
    uint64_t end;
    if (!elf_detail::checked_add(piece.offset, piece.length, &end) || end > bytes.size())
      fail("strip: piece outside the input");
    for (uint64_t at = piece.offset; at < end; at += kChunk)
      out.write(bytes.data() + at, std::min(kChunk, end - at));
  }
}

}  // namespace slimage
