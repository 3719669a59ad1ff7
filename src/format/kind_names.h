#pragma once
// The text of the model's enums (model/kinds.h) as the output contract spells it
// (docs/output-format.md), and back.
#include <optional>
#include <string_view>

#include "model/event.h"
#include "model/kinds.h"

namespace netviz {

// "connect", "close", "exec", ... as the stream's "event" key has them.
const char* event_name(EventKind k);

// "" for none.
const char* to_text(Proto p);
const char* to_text(Family f);
const char* to_text(Direction d);
const char* to_text(Attribution a);
const char* to_text(SockState s);  // "ESTABLISHED", "UNCONN", "CLOSED", ...

// nullopt for any text to_text never writes; "" gives none.
std::optional<Proto> parse_proto(std::string_view s);
std::optional<Family> parse_family(std::string_view s);
std::optional<Direction> parse_direction(std::string_view s);
std::optional<Attribution> parse_attribution(std::string_view s);
std::optional<SockState> parse_state(std::string_view s);

}  // namespace netviz
