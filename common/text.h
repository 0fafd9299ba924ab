// Text measures and escaping shared by the parts: lengths as 0.7 (Python) counts them, and log
// lines that no client-supplied byte can forge or turn into terminal escapes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace channelstream::common {

// Characters (code points) in UTF-8 text, as Python's len(str) counts them; each byte of an
// invalid sequence counts as one.
size_t Utf8Length(std::string_view text);

// `text` with every control character (C0, DEL, C1 such as U+009B CSI) and byte of
// invalid UTF-8 written as \xNN, so a logged value stays on one line and cannot reach a terminal
// as an escape sequence. Valid printable UTF-8 (names with accents) is kept as it is.
std::string EscapeForLog(std::string_view text);

}  // namespace channelstream::common
