/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpgen internals: the generator, the receiver, the latency histogram, the
 * trial runner, the RFC 2544 searches, the built-in DUT and the report. Each
 * part is one file of tools/mpgen/ and none keeps global state, so a test can
 * link them (the library mpgen_core, every file but main.c) and drive them on
 * a virtual clock.
 *
 * Frames and sizes. A frame size counts the 4-byte FCS, as RFC 2544 section 9
 * does (64..1518); on a mem wire the frame is 4 bytes shorter because links
 * carry no FCS. Line rate (RFC 2544 section 20, Appendix A.1) adds 20 bytes
 * per frame: 7 of preamble, 1 start-of-frame delimiter, 12 of inter-frame gap.
 *
 * The test signature. The first 12 bytes of every UDP payload, big-endian:
 *
 *    0      1      2      3      4      5      6      7      8 .. 11
 *   +------+------+------+------+------+------+------+------+---------+
 *   | 'm'  | tag  |    flow     |        sequence           | tx time |
 *   +------+------+------+------+------+------+------+------+---------+
 *
 * tag is the trial number modulo 256, so a late frame of an earlier trial is
 * never counted; flow indexes the flow table; sequence counts per flow from 0;
 * tx time is the low 32 bits of the transmit time in ns (latency up to 4.29 s
 * is recovered modulo 2^32). 12 bytes fit the smallest frames: IPv4 64 bytes
 * leave 18 bytes of UDP payload, IPv6 78 bytes (RFC 5180 section 5.1.1) 12.
 *
 * Threads: a generator and a receiver each belong to one thread at a time
 * (their link queue's thread). In real time the runner drives both from one
 * tester thread, a loop that sends what is due and receives what came back
 * (the per-core loop of pktgen-DPDK), so the tester needs one CPU and the DUT
 * gets the others; under a virtual clock it steps them in turn with the DUT.
 */
#ifndef MPGEN_H
#define MPGEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpnet/clock.h"
#include "mpnet/link.h"
#include "mpnet/pkt.h"
#include "mpnet/stack.h"
#include "mpnet/thread.h"

#define MPG_FCS_LEN     4u
#define MPG_L1_OVERHEAD 20u /* preamble + SFD + inter-frame gap, in bytes */
#define MPG_SIG_LEN     12u
#define MPG_MAGIC       0x6du
#define MPG_FLOWS_MAX   65536u
#define MPG_FRAME_MIN4  64u   /* IPv4: RFC 2544 section 9.1 */
#define MPG_FRAME_MIN6  78u   /* IPv6: RFC 5180 section 5.1.1 */
#define MPG_FRAME_MAX   1518u /* plus 4 with a VLAN tag */
#define MPG_FRAME_JUMBO 9018u /* jumbo: 9000-byte MTU (plus 4 with a VLAN tag) */
#define MPG_BURST_MAX   64u   /* frames per tx_burst call */

/* ---- tester time (tsc.c) ------------------------------------------------- */

/*
 * The tester's timestamps: the time stamp counter, read once per burst and
 * scaled to CLOCK_MONOTONIC nanoseconds (calibrated once, 20 ms), so a
 * timestamp costs no system call and no vDSO clock walk. Without an
 * invariant TSC (or off x86-64) the clock is read instead.
 */
struct mpg_tsc {
        bool ok;            /* the TSC is used */
        uint64_t tsc0, ns0; /* a reading of both at calibration */
        double ns_per_tick;
};

/** Calibrate against CLOCK_MONOTONIC; t->ok false when the TSC is unfit. */
void mpg_tsc_init(struct mpg_tsc *t);
/** @return the time in ns: from the TSC when tsc is calibrated, else the
 * clock's (virtual time, tests). */
uint64_t mpg_time(const struct mpg_tsc *tsc, struct mpnet_clock *clock);

/* ---- thread layout (layout.c) --------------------------------------------- */

#define MPG_CPUS_MAX 64

/*
 * Which CPU each thread runs on: the tester thread (sends and receives) on
 * one, the DUT's threads (the router's polling thread, or its workers) on
 * the others, taken in turn. `--pin T,D[,D...]` sets it, `--pin none` pins
 * nothing; by default the tester takes the first CPU the process may use
 * and the DUT the following ones.
 */
struct mpg_layout {
        bool pin;   /* false: nothing pinned */
        bool given; /* from --pin, not the default */
        int tester; /* CPU of the tester thread */
        unsigned n_dut;
        int dut[MPG_CPUS_MAX]; /* CPUs of the DUT's threads, used in turn */
};

/** Parse "none" or "T,D[,D...]" (CPUs 0..1023, at most MPG_CPUS_MAX DUT
 * ones, the tester's not among them). @return 0 or -EINVAL. */
int mpg_layout_parse(const char *s, struct mpg_layout *l);
/** The default: tester on the first allowed CPU, the DUT on the rest (all
 * on the one CPU, unpinned, when only one is allowed). */
void mpg_layout_default(struct mpg_layout *l);
/** @return the CPU of the DUT's i-th thread, or -1 when not pinned. */
int mpg_layout_dut_cpu(const struct mpg_layout *l, unsigned i);
/** One line for the report: which thread runs where. */
void mpg_layout_describe(const struct mpg_layout *l, int dut_kind, unsigned workers, char *buf,
                         size_t n);

/* ---- line-rate arithmetic ------------------------------------------------ */

/** @return frames per second at line rate for a frame of `frame` bytes (FCS
 * included) on a link of speed_bps: speed / ((frame + 20) * 8). */
double mpg_line_rate(uint64_t speed_bps, unsigned frame);

/* ---- flows --------------------------------------------------------------- */

/*
 * The flows are the product of four ranges: source address, destination
 * address, source port, destination port (ports vary fastest). Addresses are
 * IPv4 in host order, or IPv6 with the range in the last 32 bits.
 */
/* One flow of a list (--flow-file). */
struct mpg_flow_ent {
        uint32_t src4, dst4;
        uint8_t src6[16], dst6[16];
        uint16_t sport, dport;
};

struct mpg_flows {
        bool ip6;
        uint8_t proto; /* MPNET_IPPROTO_UDP (default) or MPNET_IPPROTO_TCP */
        uint32_t src4, dst4;
        uint8_t src6[16], dst6[16];
        uint32_t n_src, n_dst;
        uint16_t sport, dport;
        uint32_t n_sport, n_dport;
        uint16_t vlan; /* 802.1Q VLAN id 1..4094, 0 for none */
        /* A list instead of the ranges: n_list flows (the caller owns it). */
        const struct mpg_flow_ent *list;
        uint32_t n_list;
};

/** Read a flow list: one flow a line, "SRC DST [SPORT DPORT]" (ports 1024
 * when left out), '#' starts a comment; addresses of the family ip6 says.
 * @return 0, or -1 with a message naming the line in err. */
int mpg_flows_read(const char *path, bool ip6, struct mpg_flow_ent **list, uint32_t *n, char *err,
                   size_t errlen);

/** @return the number of flows, or 0 when it exceeds MPG_FLOWS_MAX. */
uint32_t mpg_flows_count(const struct mpg_flows *f);
/** Defaults of RFC 2544 Appendix C.2.2: one flow 198.18.0.2 -> 198.19.0.2
 * (or 2001:2::2 -> 2001:2:0:1::2 per RFC 5180 section 5), UDP 1024 -> 1024. */
void mpg_flows_default(struct mpg_flows *f, bool ip6);
/** @return the smallest frame (FCS included) that carries the signature. */
unsigned mpg_frame_min(const struct mpg_flows *f);

/* ---- generator (gen.c) --------------------------------------------------- */

struct mpg_gen {
        /* set by init */
        struct mpnet_link *link;
        struct mpnet_pool *pool;
        struct mpnet_clock *clock;
        const struct mpg_tsc *tsc; /* real time: timestamps from the TSC; NULL: the clock */
        uint16_t q;
        unsigned frame; /* bytes with the FCS */
        unsigned len;   /* bytes handed to the link */
        unsigned tlen;  /* bytes of a template: the frame's first buffer */
        unsigned sig_off;
        uint32_t n_flows;
        bool tcp;          /* TCP frames (else UDP) */
        uint8_t *tmpl;     /* n_flows templates of len bytes, signature zero */
        uint32_t *csum;    /* per flow: folded UDP sum over the template */
        uint32_t *seq;     /* per flow: next sequence number (frames offered) */
        uint64_t *tx_flow; /* per flow: frames accepted by the link */
        /* set by start */
        uint8_t tag;
        double rate;    /* frames per second */
        uint64_t total; /* frames to offer */
        uint64_t t0;    /* due time of frame 0 */
        uint64_t k2;    /* a step: from frame k2 on ... */
        double rate2;   /* ... the rate is rate2 (0: no step) */
        /* counters */
        uint64_t offered;         /* frames handed to tx_burst at their time */
        uint64_t tx;              /* ... and accepted by it */
        uint64_t refused;         /* ... refused by it (a full ring); not retried */
        uint64_t nobufs;          /* not built: pool empty (retried) */
        uint64_t t_first, t_last; /* first and last tx_burst call with frames */
        uint64_t lag_max;         /* latest a frame was offered after its due time */
        uint32_t next_flow;
};

/**
 * Build the per-flow templates for frames of `frame` bytes (FCS included).
 * @param src_mac, dst_mac Ethernet addresses of the frames.
 * @return 0, -EINVAL (frame too small or too large, too many flows), -ENOMEM.
 */
int mpg_gen_init(struct mpg_gen *g, struct mpnet_link *link, struct mpnet_pool *pool,
                 struct mpnet_clock *clock, const struct mpg_flows *fl, const uint8_t src_mac[6],
                 const uint8_t dst_mac[6], unsigned frame);
void mpg_gen_fini(struct mpg_gen *g);
/** Prepare a stream: `total` frames evenly paced at `rate` from t0. */
void mpg_gen_start(struct mpg_gen *g, uint8_t tag, double rate, uint64_t total, uint64_t t0);
/** From frame k2 of the started stream on, pace at rate2 (RFC 2544 26.5). */
void mpg_gen_step_rate(struct mpg_gen *g, uint64_t k2, double rate2);
/** @return the time frame k of the stream is due. */
uint64_t mpg_gen_due(const struct mpg_gen *g, uint64_t k);
/** Offer the frames due by now, at most max of them. @return frames offered. */
unsigned mpg_gen_step(struct mpg_gen *g, uint64_t now, unsigned max);
/** @return true when every frame of the stream was offered. */
static inline bool mpg_gen_done(const struct mpg_gen *g)
{
        return g->offered >= g->total;
}

/* ---- latency histogram (hist.c) ------------------------------------------ */

/*
 * Log-linear histogram of ns values: exact below 2^7, then 64 linear buckets
 * per power of two, so a bucket is at most 1/64 (1.6 %) of its value wide.
 * min, max, sum and count are exact; a quantile is the middle of its bucket,
 * clamped to [min, max].
 */
#define MPG_HIST_SUB_BITS 7u
#define MPG_HIST_HALF     (1u << (MPG_HIST_SUB_BITS - 1))
#define MPG_HIST_BUCKETS  ((1u << MPG_HIST_SUB_BITS) + (64u - MPG_HIST_SUB_BITS) * MPG_HIST_HALF)

struct mpg_hist {
        uint64_t count, min, max;
        double sum;
        uint64_t b[MPG_HIST_BUCKETS];
};

void mpg_hist_reset(struct mpg_hist *h);
void mpg_hist_add(struct mpg_hist *h, uint64_t v);
void mpg_hist_merge(struct mpg_hist *dst, const struct mpg_hist *src);
/** @return the q-quantile (0 <= q <= 1), 0 for an empty histogram. */
uint64_t mpg_hist_quantile(const struct mpg_hist *h, double q);
/** Bucket of v, and the bounds of a bucket (for tests). */
unsigned mpg_hist_index(uint64_t v);
uint64_t mpg_hist_bucket_low(unsigned idx);
uint64_t mpg_hist_bucket_width(unsigned idx);

/** Latency summary in ns; pdv is RFC 8219 section 7.3.1's D(99.9) - Dmin. */
struct mpg_lat {
        uint64_t count;
        double min, mean, p50, p90, p99, p999, max, pdv;
};
void mpg_hist_summary(const struct mpg_hist *h, struct mpg_lat *out);

/* ---- receiver (rx.c) ----------------------------------------------------- */

#define MPG_RX_WINDOW 1024u /* sequence numbers kept per flow to tell duplicates */

struct mpg_flow_rx {
        uint32_t next;    /* highest sequence seen + 1 */
        uint64_t rx;      /* signature frames, duplicates included */
        uint64_t dup;     /* seen before (within the window) */
        uint64_t reorder; /* arrived after a higher sequence (RFC 4737 section 3) */
        uint64_t late;    /* too far behind to tell reordered from duplicated */
        uint64_t win[MPG_RX_WINDOW / 64];
};

struct mpg_rx {
        struct mpnet_link *link;
        struct mpnet_clock *clock;
        const struct mpg_tsc *tsc; /* as the generator's */
        uint16_t q;
        uint32_t n_flows;
        uint8_t tag;
        struct mpg_flow_rx *flow;
        struct mpg_hist *lat;
        uint64_t rx; /* signature frames of this trial, duplicates included */
        uint64_t dup, reorder, late;
        uint64_t other; /* frames that are not ours: other trials, ARP, junk */
        uint64_t t_first, t_last;
        /* Frame k of the stream is flow k % n_flows, sequence k / n_flows
         * (the generator goes round-robin), so a jump in k over the frames
         * received in order is frames lost in between. */
        uint64_t k_next;         /* stream index after the last in-order frame */
        uint64_t t_prev;         /* when that frame was received */
        bool lost_any;           /* a jump was seen ... */
        uint64_t k_lost;         /* ... and the last frame it skipped */
        uint64_t outage_ns;      /* the longest receive gap across a jump */
        uint64_t outage_lost;    /* frames skipped by that jump */
        _Atomic uint64_t unique; /* rx - dup, published for the runner */
};

/** @return 0 or -ENOMEM. */
int mpg_rx_init(struct mpg_rx *r, struct mpnet_link *link, struct mpnet_clock *clock,
                uint32_t n_flows);
void mpg_rx_fini(struct mpg_rx *r);
/** Forget everything; count only frames with this tag from now on. */
void mpg_rx_start(struct mpg_rx *r, uint8_t tag);
/** Receive what the link holds (up to one burst), timestamped by the clock
 * read just after. @return frames received. */
unsigned mpg_rx_step(struct mpg_rx *r);
/** Classify one frame received at now (exposed for tests). */
void mpg_rx_frame(struct mpg_rx *r, const uint8_t *b, uint32_t n, uint64_t now);

/* ---- trials (trial.c) ---------------------------------------------------- */

struct mpg_trial;

/* A DUT as the runner sees it: where frames go and come back, and in virtual
 * time a poll function run between generator and receiver steps. */
struct mpg_path {
        struct mpnet_link *tx; /* generator's link */
        struct mpnet_link *rx; /* receiver's link */
        uint8_t src_mac[6], dst_mac[6];
        uint64_t speed_bps; /* for line-rate arithmetic */
        /* Virtual time only: run the DUT at now. @return its next event time. */
        uint64_t (*poll)(void *arg, uint64_t now);
        void *poll_arg;
};

struct mpg_env {
        struct mpnet_clock *clock;
        bool virtual_time; /* one thread, clock advanced by the runner */
        struct mpnet_pool *pool;
        struct mpg_path path;
        struct mpg_flows flows;
        uint64_t settle_ns; /* wait for residual frames (RFC 2544 section 23 D) */
        uint64_t rest_ns;   /* pause before each trial (RFC 2544 section 23 E) */
        double valid_min;   /* offered/intended below this: invalid (0.99) */
        unsigned trial_no;  /* counts trials; tags frames */
        /* Called after each trial (the report's log); may be NULL. */
        void (*on_trial)(void *arg, const struct mpg_trial *t);
        void *on_trial_arg;
        const atomic_bool *interrupted; /* set by SIGINT; may be NULL */
        /* Called once, action_ns into a trial that asks for it, on the
         * runner's thread (real time) or between steps (virtual time): the
         * DUT reset of RFC 2544 26.6. @return 0 or -errno. */
        int (*action)(void *arg);
        void *action_arg;
        const struct mpg_layout *layout; /* where the tester thread runs; NULL: anywhere */
        const struct mpg_tsc *tsc;       /* real time: the tester's timestamps; NULL: the clock */
        /* Called just before a trial's first frame (end false) and after
         * its last (end true), on the runner's thread: the DUT's own view of
         * the trial into t's dut_* fields. May be NULL. */
        void (*probe)(void *arg, struct mpg_trial *t, bool end);
        void *probe_arg;
};

/** Pin the calling thread to one CPU. @return 0 or -errno. */
int mpg_pin_self(unsigned cpu);

enum mpg_kind {
        MPG_T_CALIBRATION,
        MPG_T_THROUGHPUT,
        MPG_T_LATENCY,
        MPG_T_FRAME_LOSS,
        MPG_T_BACK_TO_BACK,
        MPG_T_RECOVERY,
        MPG_T_RESET,
        MPG_T_RUN,
        MPG_T_CEILING, /* unpaced through a plain wire: the tester's own rate */
        MPG_T__COUNT
};
const char *mpg_kind_name(enum mpg_kind k);

struct mpg_trial {
        /* request */
        enum mpg_kind kind;
        unsigned frame;
        double rate;      /* intended frames per second */
        uint64_t count;   /* frames to offer */
        int phase;        /* search phase, -1 outside a search */
        uint64_t step_at; /* with step_rate: frames step_at.. go at step_rate */
        double step_rate;
        uint64_t action_ns; /* call env->action this long after the start */
        /* result */
        unsigned no;
        uint64_t duration_ns; /* intended: count / rate */
        uint64_t elapsed_ns;  /* first due time to last offer + one interval */
        double offered_rate;  /* achieved */
        uint64_t offered, tx, refused, rx, unique, dup, reorder, late, other;
        int64_t lost;        /* offered - unique */
        double loss_ratio;   /* lost / offered */
        double rx_rate;      /* unique / elapsed: the forwarding rate */
        uint64_t lag_max_ns; /* worst pacing delay of the generator */
        uint32_t flows_with_loss;
        double flow_loss_min, flow_loss_max; /* per-flow loss ratios */
        bool valid;
        const char *invalid_reason;
        struct mpg_lat lat;
        /* RFC 2544 26.5: with a step, the last frame lost came recovery_ns
         * after the step (0: none after it); not recovered: the stream's last
         * frame never arrived, so loss went on to the end. */
        bool recovered;
        uint64_t recovery_ns;
        /* RFC 2544 26.6: the longest time between two frames received across
         * lost ones, and how many were lost there. */
        uint64_t outage_ns, outage_lost;
        int action_err; /* what env->action returned */
        /* The router thread over the trial (env->probe; dut_probed false
         * where none, as with workers or an external DUT): its longest time
         * between two polls (dut_gap_max_ns, ending dut_gap_at_ns after the
         * trial began) and inside one (dut_poll_max_ns), its involuntary and
         * voluntary context switches and minor page faults, and the steal
         * time the kernel counted on all CPUs (ms; 0 on a VM without it). */
        bool dut_probed;
        uint64_t dut_gap_max_ns, dut_gap_at_ns, dut_poll_max_ns;
        uint64_t dut_ivcsw, dut_vcsw, dut_minflt, steal_ms;
};

struct mpg_runner {
        struct mpg_env *env;
        struct mpg_gen gen;
        struct mpg_rx rx;
        struct mpg_hist hist;
        unsigned frame;
        bool ready;
};

/** Prepare generator and receiver for one frame size. @return 0 or -errno. */
int mpg_runner_init(struct mpg_runner *rn, struct mpg_env *env, unsigned frame);
void mpg_runner_fini(struct mpg_runner *rn);
/**
 * Run one trial: t->kind, t->rate and t->count are the request; the rest is
 * filled in. The latency histogram of the trial stays in rn->hist, the per-flow
 * counts in rn->gen and rn->rx until the next trial.
 * @return 0, or -EINTR when interrupted, or -errno.
 */
int mpg_trial_run(struct mpg_runner *rn, struct mpg_trial *t);

/* ---- searches (search.c) ------------------------------------------------- */

/* A trial function: run t (kind, rate, count set) and fill the results. */
typedef int (*mpg_trial_fn)(void *arg, struct mpg_trial *t);

#define MPG_SEARCH_TARGETS 2
#define MPG_SEARCH_PHASES  4

struct mpg_search_cfg {
        unsigned frame;
        double min_rate, max_rate; /* search range, frames per second; min_rate > 0:
                                    * a loss there ends the search with no rate */
        double resolution;         /* stop when hi - lo <= resolution * hi */
        unsigned n_targets;        /* 1: throughput (zero loss); 2: and PDR */
        double pdr_loss;           /* loss ratio the PDR target accepts */
        unsigned phases;           /* 1..MPG_SEARCH_PHASES */
        uint64_t min_duration_ns;  /* first phase */
        uint64_t duration_ns;      /* last phase: the final determination */
        bool mlr;                  /* MLRsearch spirit: estimates and coarse early phases */
        unsigned max_trials;       /* safety stop */
        unsigned retries;          /* runs more of a trial that came out invalid */
        unsigned max_invalid;      /* give up after this many invalid rates in a row (0: 3) */
};

struct mpg_bound {
        double rate;
        bool valid;
};

struct mpg_search_res {
        double rate[MPG_SEARCH_TARGETS]; /* NDR (throughput), PDR */
        struct mpg_bound lo[MPG_SEARCH_TARGETS], hi[MPG_SEARCH_TARGETS];
        bool at_max[MPG_SEARCH_TARGETS]; /* passed at max_rate: ">=" */
        bool gen_limited;                /* some upper bound is an invalid trial */
        bool gave_up;                    /* stopped: max_invalid invalid rates in a row */
        unsigned trials, invalid;
};

/** Throughput (RFC 2544 section 26.1), and PDR when n_targets is 2. */
int mpg_search(const struct mpg_search_cfg *cfg, mpg_trial_fn fn, void *arg,
               struct mpg_search_res *out);

/** Back-to-back (RFC 9004 section 6): the longest burst at line rate with no
 * loss, found by binary search over burst lengths; repeated. */
struct mpg_b2b_cfg {
        unsigned frame;
        double line_rate;
        uint64_t max_burst;
        unsigned repeats;
        double resolution; /* 0: to one frame */
        double throughput; /* measured throughput, for the corrected buffer time */
        unsigned retries;  /* runs more of a trial that came out invalid */
};
struct mpg_b2b_res {
        double mean, min, max; /* frames */
        unsigned repeats_done;
        bool at_max;               /* a repeat passed at max_burst */
        bool invalid;              /* some repeat ended without a valid result */
        double implied_buffer_s;   /* mean / line rate */
        double corrected_buffer_s; /* frames the DUT held, as time at line rate */
        unsigned trials;
};
int mpg_b2b(const struct mpg_b2b_cfg *cfg, mpg_trial_fn fn, void *arg, struct mpg_b2b_res *out);

/** Frame loss rate (RFC 2544 section 26.3): from 100 % of line rate down in
 * steps until two successive trials lose nothing. */
#define MPG_FLR_MAX_STEPS 100
struct mpg_flr_cfg {
        unsigned frame;
        double line_rate, max_rate; /* steps above max_rate are skipped */
        double step;                /* fraction of line rate (0.1) */
        uint64_t duration_ns;
        unsigned retries; /* runs more of a trial that came out invalid */
};
struct mpg_flr_res {
        unsigned n;
        double pct[MPG_FLR_MAX_STEPS];  /* % of line rate */
        double loss[MPG_FLR_MAX_STEPS]; /* loss ratio, or -1 when skipped or invalid */
        bool skipped[MPG_FLR_MAX_STEPS];
        bool valid[MPG_FLR_MAX_STEPS];
};
int mpg_flr(const struct mpg_flr_cfg *cfg, mpg_trial_fn fn, void *arg, struct mpg_flr_res *out);

/* ---- DUTs (dut.c) --------------------------------------------------------- */

enum mpg_dut_kind {
        MPG_DUT_WIRE,     /* a plain memory wire: the generator's own ceiling */
        MPG_DUT_BUILTIN,  /* an mpnet router stack between two memory wires */
        MPG_DUT_KERNEL,   /* the Linux kernel routing between two veth pairs */
        MPG_DUT_AFPACKET, /* an mpnet router on the same veths, over AF_PACKET */
        MPG_DUT_VETH,     /* one veth pair: the ceiling of the three around it */
        MPG_DUT_AFXDP,    /* the mpnet router on the same veths, over AF_XDP */
};
#define MPG_DUT_KINDS 6

/* mpgen's own links with an external DUT. */
enum mpg_link {
        MPG_LINK_AFPACKET, /* AF_PACKET on veth ends in the tester namespace */
        MPG_LINK_AFXDP,    /* AF_XDP on the same (generic mode) */
        MPG_LINK_TAP,      /* TAP devices in the DUT namespace: no veth at all */
};

/* External DUTs (netns.c): the namespaces and veths they run on. */
struct mpg_netns {
        char t[32], d[32]; /* tester and DUT namespaces */
        uint32_t mtu;      /* of every veth */
        bool have_t, have_d;
        bool tap; /* MPG_LINK_TAP: one namespace; the DUT's interfaces are ta, tb */
};

/* MACs of ta, tb, da, db (netns.c). */
extern const uint8_t mpg_ns_mac[4][6];

/** Make the namespaces and veths of an external DUT of this kind.
 * @return 0, or -errno with a message in err. */
int mpg_netns_up(struct mpg_netns *n, enum mpg_dut_kind kind, uint32_t mtu, bool tap, char *err,
                 size_t errlen);
/** With TAP links, once mpgen's devices ta and tb exist in the DUT
 * namespace: the kernel router on them, or (veth kind) a bridge between
 * them, the TAP ceiling. @return 0 or -EIO. */
int mpg_netns_tap_config(struct mpg_netns *n, enum mpg_dut_kind kind, char *err, size_t errlen);
/** The MTU the links need for frames up to `frame` bytes (FCS included). */
uint32_t mpg_mtu_for(unsigned frame);
/** @return whether the DUT forwards frames longer than 1518 bytes. */
bool mpg_dut_jumbo(enum mpg_dut_kind k);
/** The kernel DUT's reset: da and db down and up, then its neighbours and
 * routes again (a link going down takes its routes). @return 0 or -EIO. */
int mpg_netns_kernel_reset(struct mpg_netns *n, char *err, size_t errlen);
/** Remove what mpg_netns_up() made. */
void mpg_netns_down(struct mpg_netns *n);

struct mpg_dut_cfg {
        enum mpg_dut_kind kind;
        struct mpnet_clock *clock;
        struct mpnet_pool *pool;
        uint64_t speed_bps;              /* virtual link speed (0: 10 Gbit/s) */
        uint32_t ring_size;              /* slots per memory-wire queue (0: 1024) */
        uint32_t mtu;                    /* of the links (0: 1500); above it for jumbo frames */
        bool ip6;                        /* builtin: give the router its IPv6 side too */
        enum mpg_link link;              /* external: what mpgen's own two links are */
        unsigned workers;                /* builtin: 1 (one thread) or the runtime's worker count */
        const struct mpg_layout *layout; /* where the router's threads run; NULL: anywhere */
};

/*
 * Builtin topology (RFC 2544 Appendix C.2.2 addressing):
 *
 *   generator 198.18.0.2 --wire "dut-in"-- 198.18.0.1/24 [router] 198.19.0.1/24
 *     --wire "dut-out"-- 198.19.0.2 receiver
 *
 * with routes 198.18.0.0/16 via 198.18.0.2 and 198.19.0.0/16 via 198.19.0.2
 * (the two halves of 198.18.0.0/15) and both tester addresses as permanent
 * neighbours, so no ARP runs during a trial.
 */
#define MPG_DUT_A_ADDR    0xc6120001u /* 198.18.0.1 */
#define MPG_DUT_B_ADDR    0xc6130001u /* 198.19.0.1 */
#define MPG_TESTER_A_ADDR 0xc6120002u /* 198.18.0.2 */
#define MPG_TESTER_B_ADDR 0xc6130002u /* 198.19.0.2 */

struct mpnet_stack;

struct mpg_dut {
        struct mpg_dut_cfg cfg;
        struct mpnet_link *tx, *rx; /* tester ends */
        struct mpnet_link *da, *db; /* router ends (builtin, afpacket, afxdp) */
        struct mpnet_stack *stack;
        struct mpg_netns ns;      /* external DUTs */
        char err[256];            /* why create failed */
        struct mpnet_runtime *rt; /* builtin with workers */
        uint8_t dst_mac[6];
        bool running;
        _Atomic bool stop;
        uint64_t polls, idle; /* of the DUT thread */
        void *thread;         /* pthread_t, boxed */
        /* mpg_dut_probe(): the runner bumps probe_epoch at a trial's start;
         * the router thread, seeing it, restarts its maxima and acknowledges
         * (probe_ack); it alone writes the maxima. */
        _Atomic uint64_t probe_epoch, probe_ack;
        _Atomic uint64_t gap_max_ns, gap_at_ns, poll_max_ns;
        _Atomic int tid; /* the router thread's, 0 until it runs */
        uint64_t probe_t0;
        uint64_t base_ivcsw, base_vcsw, base_minflt, base_steal;
};

/** @return 0, or -errno with the reason in d->err. */
int mpg_dut_create(const struct mpg_dut_cfg *cfg, struct mpg_dut *d);
/** RFC 2544 26.6: reset the DUT (an mpnet router: a new stack, as after a
 * reboot; the kernel: links down and up, routes and neighbours again).
 * @return 0, -ENOTSUP (a wire or veth), or -errno. */
int mpg_dut_reset(void *d);
/** Builtin in real time: start the thread that polls the router. */
int mpg_dut_start(struct mpg_dut *d);
void mpg_dut_stop(struct mpg_dut *d);
void mpg_dut_destroy(struct mpg_dut *d);
/** Virtual time: poll the router at now. @return its next event. */
uint64_t mpg_dut_poll(void *d, uint64_t now);
/** env->probe for a DUT polled by a thread of mpgen's own (builtin with
 * one thread, afpacket, afxdp): arg is the mpg_dut. */
void mpg_dut_probe(void *d, struct mpg_trial *t, bool end);
/** Fill a path: tester links, MACs, speed, and the poll function. */
void mpg_dut_path(struct mpg_dut *d, struct mpg_path *p);
const char *mpg_dut_name(enum mpg_dut_kind k);

/* ---- the RFC 2544 suite (rfc2544.c) --------------------------------------- */

#define MPG_SIZES_MAX        16
#define MPG_DUT_COUNTERS_MAX 320 /* link drops and stack counters kept for the report */

/* A stack counter by name (0 for a name the stack lacks). */
static inline uint64_t mpg_ctr(const struct mpnet_stack *s, const char *name)
{
        int id = mpnet_stack_counter_find(s, name);

        return id >= 0 ? mpnet_stack_counter(s, (unsigned)id) : 0;
}

struct mpg_suite_cfg {
        enum mpg_dut_kind dut;
        unsigned workers;
        enum mpg_link link; /* external DUTs: the tester's links */
        uint64_t speed_bps;
        uint32_t ring_size, pool_size;
        struct mpg_flows flows;
        unsigned sizes[MPG_SIZES_MAX], n_sizes;
        bool t_tput, t_lat, t_flr, t_b2b, t_rec, t_reset;
        const char *profile; /* "rfc2544" or "quick" */
        /* throughput */
        bool mlr;
        double resolution, pdr_loss;
        unsigned phases;
        uint64_t tput_ns, search_ns;
        /* latency, frame loss, back-to-back */
        uint64_t lat_ns;
        unsigned lat_repeats;
        uint64_t flr_ns;
        double flr_step;
        uint64_t b2b_max;
        unsigned b2b_repeats;
        double b2b_res;
        /* system recovery: overload, then the 50 % stream; reset stream */
        uint64_t rec_ns, rec_after_ns;
        unsigned rec_repeats;
        uint64_t reset_ns, reset_at_ns;
        /* every trial */
        uint64_t calib_ns, settle_ns, rest_ns;
        double valid_min;
        double ceiling_margin; /* ceiling = calibrated offered rate * this */
        struct mpg_layout layout;
        unsigned retries; /* runs more of a trial that came out invalid */
        bool quiet;
        const char *out_dir;
        const char *cmdline;
};

/** Fill cfg with RFC 2544's trial lengths, or the quick profile's. */
void mpg_suite_defaults(struct mpg_suite_cfg *cfg, bool quick);

struct mpg_size_res {
        unsigned frame;
        double line_rate; /* frames per second */
        bool calibrated;
        struct mpg_trial calib;
        double ceiling; /* highest rate offered to the DUT */
        /* The tester's own rate, unpaced, looped to itself through the
         * calibration's plain wire (or veth pair): frames received per
         * second. A DUT throughput near it is the tester's, not the DUT's. */
        bool tester_done;
        double tester_fps;
        bool tput_done;
        struct mpg_search_res tput;
        bool lat_done;
        double lat_rate;
        struct mpg_lat lat;  /* over every frame of every repeat */
        double lat_mean_avg; /* RFC 2544 section 26.2: mean of the repeats */
        unsigned lat_repeats, lat_valid;
        bool flr_done;
        struct mpg_flr_res flr;
        bool b2b_done;
        struct mpg_b2b_res b2b;
        /* RFC 2544 26.5: recovery after rec_rate (110 % of throughput, at
         * most the ceiling) drops to half of it; mean and max over the
         * repeats that recovered */
        bool rec_done;
        double rec_rate;
        unsigned rec_repeats, rec_recovered;
        double rec_mean_ns;
        uint64_t rec_max_ns;
        /* RFC 2544 26.6 (smallest frame size only): receive gap over a reset
         * of the DUT while a stream at the throughput rate runs */
        bool reset_done;
        double reset_rate;
        uint64_t reset_gap_ns, reset_lost;
        int reset_err;
        int err;
};

struct mpg_suite {
        struct mpg_suite_cfg cfg;
        struct mpg_size_res res[MPG_SIZES_MAX];
        unsigned n_res;
        struct mpg_trial *log; /* every trial, in order */
        size_t n_log, cap_log;
        uint64_t t_start, t_end;     /* CLOCK_MONOTONIC */
        double load_start, load_end; /* 1-minute load average, -1 unknown */
        long long wall_start;        /* time(2) */
        struct {
                const char *name; /* static in the library */
                uint64_t v;
        } dut_counters[MPG_DUT_COUNTERS_MAX]; /* at the end: the links' drops, the stack's counters
                                               */
        unsigned n_dut_counters;
        const atomic_bool *interrupted;
        char layout_line[256]; /* which thread ran where */
        /* progress */
        unsigned cur_size;
        const char *cur_test;
        bool tty;
};

/** Run every selected test for every frame size. @return 0, -EINTR or -errno. */
int mpg_suite_run(struct mpg_suite *s);
void mpg_suite_fini(struct mpg_suite *s);

/* ---- report (report.c) ------------------------------------------------------ */

/* A throughput at this fraction of the tester's own rate or above is the
 * tester's, not the DUT's. */
#define MPG_TESTER_BOUND 0.9

/** @return what bounded a frame size's throughput: "DUT", "line" (line
 * rate), "tester", or "-" when there is none. */
const char *mpg_size_limit(const struct mpg_size_res *r);
/** The result table (and the back-to-back and frame loss tables). */
void mpg_report_table(FILE *f, const struct mpg_suite *s);
/** Several runs (--dut a,b,c) side by side: throughput, the tester's
 * ceiling and what bounded each, and latency p50, per frame size. */
void mpg_report_compare(FILE *f, struct mpg_suite *const *s, unsigned n);
/** Everything, every trial included, as JSON. @return 0 or -errno. */
int mpg_report_json(const struct mpg_suite *s, const char *path);
/**
 * Write DIR/throughput.dat and DIR/throughput.gp and run gnuplot on them.
 * @return 1 when the SVG was written, 0 when gnuplot is missing (the script
 * and data are there), -ENODATA when no throughput was measured, -errno on
 * failure.
 */
int mpg_report_plot(const struct mpg_suite *s, const char *dir);
/** Write one trial as a JSON object (also used by `mpgen run`). */
struct mpg_json;
void mpg_json_trial(struct mpg_json *j, const char *key, const struct mpg_trial *t);

/* A small streaming JSON writer: numbers are numbers, non-finite ones null. */
struct mpg_json {
        FILE *f;
        unsigned depth;
        bool first[32];
};
void mpg_json_init(struct mpg_json *j, FILE *f);
void mpg_json_obj(struct mpg_json *j, const char *key);
void mpg_json_obj_end(struct mpg_json *j);
void mpg_json_arr(struct mpg_json *j, const char *key);
void mpg_json_arr_end(struct mpg_json *j);
void mpg_json_num(struct mpg_json *j, const char *key, double v);
void mpg_json_u64(struct mpg_json *j, const char *key, uint64_t v);
void mpg_json_i64(struct mpg_json *j, const char *key, int64_t v);
void mpg_json_str(struct mpg_json *j, const char *key, const char *v);
void mpg_json_bool(struct mpg_json *j, const char *key, bool v);
void mpg_json_null(struct mpg_json *j, const char *key);

#endif
