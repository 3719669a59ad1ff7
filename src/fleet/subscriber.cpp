#include "fleet/subscriber.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "util/error.h"

namespace netviz {

namespace {

constexpr int64_t kMinMessageBytes = 64;

// The message's text and where it stands in the stream (sequence, how many wait behind it).
FleetMessage fleet_message(natsMsg* m) {
  FleetMessage fm;
  fm.subject = natsMsg_GetSubject(m);
  fm.data = std::string_view(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
    fm.stream_seq = meta->Sequence.Stream;
    fm.pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
  }
  return fm;
}

}  // namespace

Subscriber::Subscriber(SubscribeOptions o, std::ostream& err) : o_(std::move(o)), err_(err) {
  check_access_files(o_.access);
  std::string down;
  nc_ = nats_connect(o_.access, &down);
  if (!down.empty())
    say("NATS " + masked_list(o_.access.servers) + " not reachable (" + down +
        "); waiting for it");
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  if (natsConnection_JetStream(&js_, nc_, &jo) != NATS_OK) {
    natsConnection_Destroy(nc_);
    throw Error("NATS: cannot start a JetStream context");
  }
}

Subscriber::~Subscriber() {
  ahead_.reset();  // before the subscription it fetches from
  // A durable consumer stays on the server (that is its point); unsubscribing would delete it.
  if (sub_) natsSubscription_Destroy(sub_);
  jsCtx_Destroy(js_);
  natsConnection_Destroy(nc_);
}

void Subscriber::say(const std::string& line) {
  err_ << (o_.program + ": " + mask_secrets(line, o_.access.servers) + "\n");
  err_.flush();
}

bool Subscriber::open() {
  if (sub_) return true;
  if (natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED) return false;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (!o_.durable.empty()) {
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js_, o_.stream.c_str(), o_.durable.c_str(), nullptr, &jerr) ==
        NATS_OK) {
      ack_floor_ = ci->AckFloor.Stream;
      jsConsumerInfo_Destroy(ci);
    }
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o_.stream.c_str();
  // Messages are handled in order: acknowledging the last of a batch acknowledges all before it.
  so.Config.AckPolicy = js_AckAll;
  so.Config.MaxAckPending = 100000;
  so.Config.AckWait = 30LL * 1'000'000'000;
  if (o_.since) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = *o_.since;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  natsStatus s = js_PullSubscribe(&sub_, js_, o_.subjects.c_str(),
                                  o_.durable.empty() ? nullptr : o_.durable.c_str(), nullptr, &so,
                                  &jerr);
  if (s == NATS_OK) return true;
  sub_ = nullptr;
  if (!said_waiting_) {
    say("cannot read stream " + o_.stream + " yet (" + nats_error_text(s, o_.access) +
        "); retrying");
    said_waiting_ = true;
  }
  return false;
}

int Subscriber::fetch(int64_t timeout_ms, const std::function<void(const FleetMessage&)>& on_msg) {
  if (!open()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(timeout_ms, 250)));
    return -1;
  }
  // Bounded by bytes: a tracer's message holds up to 256 KB of lines, and a count alone
  // would hold the whole stream in memory before the first line is read. Above the largest
  // message the server takes, or a message that size could never be fetched.
  const int64_t largest = natsConnection_GetMaxPayload(nc_) + (64 << 10);
  jsFetchRequest req;
  jsFetchRequest_Init(&req);
  req.MaxBytes = std::max<int64_t>(2 << 20, largest);
  // The count is no limit, and more than twice what MaxBytes lets in: libnats 3.4's fetch
  // writes past its array of Batch messages when more than half of them were already queued
  // (messages a request delivered after the client stopped waiting for it: seen at 800), and
  // no message is under kMinMessageBytes on the wire (subject, reply, header and one line).
  req.Batch = static_cast<int>(2 * ((req.MaxBytes + largest) / kMinMessageBytes) + 1);
  req.Expires = timeout_ms * 1'000'000;
  FetchedBatch got = ahead_ && ahead_->running() ? ahead_->take() : fetch_batch(sub_, req);
  natsStatus s = got.status;
  if (s == NATS_TIMEOUT) return 0;
  if (s != NATS_OK) {
    // Disconnected or the server restarting: the consumer is still there; wait and retry.
    // Not "nothing left": a run without --follow must not end with half the stream.
    if (!said_waiting_) {
      say("reading from NATS failed (" + nats_error_text(s, o_.access) + "); retrying");
      said_waiting_ = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(timeout_ms, 250)));
    return -1;
  }
  natsMsgList& list = got.list;
  std::vector<FleetMessage> msgs;
  msgs.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) msgs.push_back(fleet_message(list.Msgs[i]));
  // More waiting on the server: the next batch is fetched while this one is read. Caught up,
  // nothing is fetched ahead, so a stitcher that stops then holds no unread messages.
  if (!msgs.empty() && msgs.back().pending > 0) {
    if (!ahead_) ahead_ = std::make_unique<FetchAhead>(sub_);
    ahead_->start(req);
  }
  for (const auto& fm : msgs) on_msg(fm);
  // Synchronous: once fetch() returns, the server knows these are in the graph. A plain
  // ack could still sit in the client's buffer when the stitcher exits, and the messages
  // would come back only after AckWait (30 s), too late for a resumed run without --follow.
  if (list.Count > 0) natsMsg_AckSync(list.Msgs[list.Count - 1], nullptr, nullptr);
  natsMsgList_Destroy(&list);
  return static_cast<int>(msgs.size());
}

bool Subscriber::replay_acknowledged(const std::function<void(const FleetMessage&)>& on_msg) {
  if (!ack_floor_) return true;
  // An ordered push consumer of its own: no acknowledgements, gone when unsubscribed.
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o_.stream.c_str();
  so.Ordered = true;
  if (o_.since) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = *o_.since;
  }
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (js_SubscribeSync(&sub, js_, o_.subjects.c_str(), nullptr, &so, &jerr) != NATS_OK) return false;
  bool ok = true;
  for (;;) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK) {
      ok = false;
      break;
    }
    FleetMessage fm = fleet_message(m);
    bool past = fm.stream_seq > ack_floor_;
    if (!past) on_msg(fm);
    bool last = fm.stream_seq >= ack_floor_ || fm.pending == 0;
    natsMsg_Destroy(m);
    if (past || last) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return ok;
}

}  // namespace netviz
