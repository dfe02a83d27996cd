// The layout of a CPython 3.11 interpreter's structures, from the DWARF of its exact build (the
// binary itself, or its separate debug file): the member offsets mapblame needs to walk the
// interpreter's frame chain in a stopped tracee, and the addresses of the symbols it starts from.
// Nothing here is guessed: a member the DWARF does not have fails the whole layout.
#include "CShims.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

// The structs named `names` (by tag or typedef; the first complete definition in any unit), in one
// pass over the units' top-level entries (a pass per name read the 11 MiB of python3.11's debug
// info 23 times). 0 when all were found.
static int find_structs(Dwarf *dw, const char *const *names, int count, Dwarf_Die *out) {
    int found[32] = {0}, left = count;
    if (count > 32) return -1;
    Dwarf_Off offset = 0, next;
    size_t header;
    while (left > 0 && dwarf_nextcu(dw, offset, &next, &header, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(dw, offset + header, &cu) && dwarf_child(&cu, &child) == 0) {
            do {
                int tag = dwarf_tag(&child);
                if (tag != DW_TAG_structure_type && tag != DW_TAG_typedef) continue;
                const char *n = dwarf_diename(&child);
                if (!n) continue;
                for (int i = 0; i < count; i++) {
                    if (found[i] || strcmp(n, names[i]) != 0) continue;
                    Dwarf_Die die = child;
                    Dwarf_Attribute attr;
                    while (dwarf_tag(&die) == DW_TAG_typedef) {
                        if (!dwarf_attr(&die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &die)) break;
                    }
                    if (dwarf_tag(&die) == DW_TAG_structure_type && !dwarf_hasattr(&die, DW_AT_declaration)) {
                        out[i] = die;
                        found[i] = 1;
                        left--;
                    }
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        offset = next;
    }
    return left == 0 ? 0 : -1;
}

// The struct a member's type is, through typedefs and qualifiers (for the next part of a path).
static int member_struct(Dwarf_Die *member, Dwarf_Die *out) {
    Dwarf_Attribute attr;
    Dwarf_Die die = *member;
    do {
        if (!dwarf_attr(&die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &die)) return -1;
    } while (dwarf_tag(&die) == DW_TAG_typedef || dwarf_tag(&die) == DW_TAG_const_type
             || dwarf_tag(&die) == DW_TAG_volatile_type);
    if (dwarf_tag(&die) != DW_TAG_structure_type && dwarf_tag(&die) != DW_TAG_union_type) return -1;
    *out = die;
    return 0;
}

// The offset in bits of member `path` ("interpreters.head") of struct `s`, and its bit size (0
// for a member that is not a bit-field).
static int member_bits(Dwarf_Die *s, const char *path, uint64_t *bits, uint64_t *size) {
    char part[128];
    const char *dot = strchr(path, '.');
    size_t length = dot ? (size_t)(dot - path) : strlen(path);
    if (length >= sizeof part) return -1;
    memcpy(part, path, length);
    part[length] = 0;
    Dwarf_Die child;
    if (dwarf_child(s, &child) != 0) return -1;
    do {
        const char *n = dwarf_diename(&child);
        if (dwarf_tag(&child) != DW_TAG_member || !n || strcmp(n, part) != 0) continue;
        Dwarf_Attribute attr;
        Dwarf_Word location = 0, bit_size = 0, bit_offset = 0;
        if (dwarf_attr(&child, DW_AT_data_member_location, &attr) && dwarf_formudata(&attr, &location) != 0) return -1;
        if (dwarf_attr(&child, DW_AT_bit_size, &attr)) dwarf_formudata(&attr, &bit_size);
        uint64_t here = location * 8;
        if (dwarf_attr(&child, DW_AT_data_bit_offset, &attr)) {  // DWARF 5
            if (dwarf_formudata(&attr, &bit_offset) != 0) return -1;
            here = bit_offset;
        } else if (bit_size && dwarf_attr(&child, DW_AT_bit_offset, &attr)) {  // DWARF 4: from the storage unit's top
            Dwarf_Word byte_size = 0;
            Dwarf_Attribute size_attr;
            if (dwarf_formudata(&attr, &bit_offset) != 0 || !dwarf_attr(&child, DW_AT_byte_size, &size_attr)
                || dwarf_formudata(&size_attr, &byte_size) != 0) return -1;
            here = location * 8 + byte_size * 8 - bit_offset - bit_size;
        }
        if (!dot) {
            *bits = here;
            *size = bit_size;
            return 0;
        }
        Dwarf_Die inner;
        uint64_t rest, rest_size;
        if (member_struct(&child, &inner) != 0 || member_bits(&inner, dot + 1, &rest, &rest_size) != 0) return -1;
        *bits = here + rest;
        *size = rest_size;
        return 0;
    } while (dwarf_siblingof(&child, &child) == 0);
    return -1;
}

static int offset_of(Dwarf_Die *s, const char *path, uint64_t *out) {
    uint64_t bits, size;
    if (member_bits(s, path, &bits, &size) != 0 || bits % 8 != 0) return -1;
    *out = bits / 8;
    return 0;
}

static int size_of(Dwarf_Die *s, uint64_t *out) {
    Dwarf_Attribute attr;
    Dwarf_Word size;
    if (!dwarf_attr(s, DW_AT_byte_size, &attr) || dwarf_formudata(&attr, &size) != 0) return -1;
    *out = size;
    return 0;
}

// Addresses (ELF virtual addresses) and sizes of the symbols the walk starts from.
static void read_symbols(Elf *elf, cshims_python_layout *l) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM) || !shdr.sh_entsize) continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data) continue;
        for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym) || sym.st_value == 0) continue;
            const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (!name) continue;
            if (strcmp(name, "_PyRuntime") == 0) l->runtime = sym.st_value;
            else if (strcmp(name, "Py_Version") == 0) l->version = sym.st_value;
            else if (strcmp(name, "_PyEval_EvalFrameDefault") == 0) {
                l->eval_start = sym.st_value;
                l->eval_end = sym.st_value + sym.st_size;
            } else if (strcmp(name, "_PyEval_EvalFrameDefault.cold") == 0) {
                l->eval_cold_start = sym.st_value;
                l->eval_cold_end = sym.st_value + sym.st_size;
            }
        }
    }
}

int cshims_python_layout_read(const char *path, cshims_python_layout *l) {
    memset(l, 0, sizeof *l);
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf) {
        close(fd);
        return -1;
    }
    read_symbols(elf, l);
    Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
    int rc = -2;  // symbols only, no (usable) DWARF
    enum { RUNTIME, INTERP, TSTATE, CFRAME, FRAME, CODE, BYTES, ASCII, COMPACT, TYPES };
    static const char *const names[TYPES] = {"_PyRuntimeState", "PyInterpreterState", "PyThreadState", "_PyCFrame",
                                             "_PyInterpreterFrame", "PyCodeObject", "PyBytesObject", "PyASCIIObject",
                                             "PyCompactUnicodeObject"};
    Dwarf_Die t[TYPES];
    if (dw && find_structs(dw, names, TYPES, t) == 0) {
        int failed = 0;
#define OFF(field, type, member) failed |= offset_of(&t[type], member, &l->field) != 0
        OFF(runtime_interpreters_head, RUNTIME, "interpreters.head");
        OFF(interp_next, INTERP, "next");
        OFF(interp_threads_head, INTERP, "threads.head");
        OFF(tstate_next, TSTATE, "next");
        OFF(tstate_thread_id, TSTATE, "thread_id");
        OFF(tstate_cframe, TSTATE, "cframe");
        OFF(cframe_current_frame, CFRAME, "current_frame");
        OFF(frame_code, FRAME, "f_code");
        OFF(frame_previous, FRAME, "previous");
        OFF(frame_prev_instr, FRAME, "prev_instr");
        OFF(frame_is_entry, FRAME, "is_entry");
        OFF(code_filename, CODE, "co_filename");
        OFF(code_qualname, CODE, "co_qualname");
        OFF(code_firstlineno, CODE, "co_firstlineno");
        OFF(code_linetable, CODE, "co_linetable");
        OFF(code_adaptive, CODE, "co_code_adaptive");
        OFF(bytes_size, BYTES, "ob_base.ob_size");
        OFF(bytes_data, BYTES, "ob_sval");
        OFF(ascii_length, ASCII, "length");
#undef OFF
        failed |= size_of(&t[ASCII], &l->ascii_size) != 0;
        failed |= size_of(&t[COMPACT], &l->compact_size) != 0;
        uint64_t size = 0;
        failed |= member_bits(&t[ASCII], "state.kind", &l->state_kind_bit, &size) != 0 || size != 3
            || member_bits(&t[ASCII], "state.compact", &l->state_compact_bit, &size) != 0 || size != 1
            || member_bits(&t[ASCII], "state.ascii", &l->state_ascii_bit, &size) != 0 || size != 1;
        rc = failed ? -2 : 0;
    }
    if (dw) dwarf_end(dw);
    elf_end(elf);
    close(fd);
    return rc;
}
