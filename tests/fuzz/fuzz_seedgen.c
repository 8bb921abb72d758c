/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed inputs for the fuzz targets, made at build time (nothing binary is
 * committed). Usage: fuzz_seedgen sess|net|tcp|tokens|tls OUTDIR
 *
 *   sess    scripts (fuzz_sess.c layout) carrying frames from wire_build:
 *           Hello, EnqueueBatch, Subscribe + Credit, Complete, Fail,
 *           ExtendLease, Ping, and a Hello and a batch cut into pieces
 *   net     records (fuzz_net.c layout): an ARP request, an ICMP echo
 *           request, a fragment, a bad IPv4 checksum, an ARP reply that
 *           releases a packet waiting for it
 *   tcp     records (fuzz_tcp.c layout): a handshake with data and FINs,
 *           out-of-order and overlapping segments, a SYN cookie, an active
 *           open, blind RST/SYN injection, SACK recovery, a raw segment
 *           with odd options
 *   tokens  token files: a valid one, one with a bad role, one with a
 *           comment that takes a line near the length limit
 *   tls     ClientHellos from an mbedTLS client offering ALPN sluice/1 and
 *           session tickets, one with a ticket sealed as tls.c seals them
 *
 * Exit 0, or 1 with a message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/ssl.h>

#include "wire_build.h"

static const char *outdir;

struct seed {
	uint8_t b[8192];
	size_t len;
};

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "fuzz_seedgen: %s\n", what);
	exit(1);
}

static void
put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->b))
		die("seed too large");
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void
put8(struct seed *s, uint8_t v)
{
	put(s, &v, 1);
}

static void
put16le(struct seed *s, uint16_t v)
{
	put8(s, (uint8_t)v);
	put8(s, (uint8_t)(v >> 8));
}

static void
put16be(struct seed *s, uint16_t v)
{
	put8(s, (uint8_t)(v >> 8));
	put8(s, (uint8_t)v);
}

static void
save(const char *name, const struct seed *s)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---- sess: scripts of CHUNK/DONE/READ/TICK/AUTH ops ---- */

enum { OP_CHUNK, OP_DONE, OP_RAW, OP_READ, OP_TICK, OP_AUTH, OP_DELIVER };

/* One frame as a CHUNK op, optionally cut into `pieces` CHUNK ops. */
static void
chunk_msg(struct seed *s, const struct wire_msg_in *m, unsigned pieces)
{
	uint8_t frame[4096];
	ssize_t n = wire_build(frame, sizeof(frame), m);
	size_t at = 0;

	if (n <= 0)
		die("wire_build failed on a seed message");
	for (unsigned i = 0; i < pieces; i++) {
		size_t len = i + 1 == pieces ? (size_t)n - at : (size_t)n / pieces;

		put8(s, OP_CHUNK);
		put16le(s, (uint16_t)len);
		put(s, frame + at, len);
		at += len;
	}
}

static void
op_read_all(struct seed *s)
{
	put8(s, OP_READ);
	put16le(s, 0xffff);
}

static void
op_done(struct seed *s, uint8_t i, uint8_t status)
{
	put8(s, OP_DONE);
	put8(s, i);
	put8(s, status);
}

static void
hello(struct seed *s, uint8_t role, unsigned pieces)
{
	static const uint8_t token[] = "seed-token";
	struct wire_msg_in m = { .type = WIRE_MSG_HELLO };

	m.u.hello.version = WIRE_PROTOCOL_VERSION;
	m.u.hello.role = role;
	m.u.hello.token = (struct wire_bytes){ token, sizeof(token) - 1 };
	m.u.hello.client_name = wire_cstr("seed");
	chunk_msg(s, &m, pieces);
}

static void
subscribe(struct seed *s)
{
	struct wire_queue_weight_in q[2] = { { wire_cstr("emails"), 3 },
					     { wire_cstr("billing"), 1 } };
	struct wire_msg_in m = { .type = WIRE_MSG_SUBSCRIBE };

	m.u.subscribe.queues = q;
	m.u.subscribe.n_queues = 2;
	m.u.subscribe.prefetch = 8;
	chunk_msg(s, &m, 1);
}

static void
seeds_sess(void)
{
	static const uint8_t pl[] = "{\"to\":\"a@example.org\"}";
	struct wire_header_in hdr = { wire_cstr("trace"), wire_cstr("abc") };
	struct wire_job_in jobs[2] = {
		{ .queue = wire_cstr("emails"),
		  .type = wire_cstr("send"),
		  .payload = { pl, sizeof(pl) - 1 },
		  .content_type = wire_cstr("application/json"),
		  .priority = 3,
		  .headers = &hdr,
		  .n_headers = 1 },
		{ .queue = wire_cstr("billing"),
		  .type = wire_cstr("charge"),
		  .id = { 1, 2 },
		  .payload = { pl, 4 },
		  .unique_key = wire_cstr("u1"),
		  .unique_ttl_ms = 1000 },
	};
	uint64_t leases[3] = { 11, 12, 13 };
	struct wire_msg_in m;
	struct seed s;

	/* Hello from the fuzzer, auth answered OK, Welcome read. */
	s.len = 0;
	put8(&s, 0);
	hello(&s, WIRE_ROLE_BOTH, 1);
	put8(&s, OP_AUTH);
	put8(&s, 0);
	op_read_all(&s);
	save("sess-hello.bin", &s);

	/* The same, every frame cut into pieces, then a batch in pieces. */
	s.len = 0;
	put8(&s, 0);
	hello(&s, WIRE_ROLE_PRODUCER, 3);
	put8(&s, OP_AUTH);
	put8(&s, 0);
	m = (struct wire_msg_in){ .type = WIRE_MSG_ENQUEUE_BATCH };
	m.u.enqueue_batch.seq = 1;
	m.u.enqueue_batch.jobs = jobs;
	m.u.enqueue_batch.n_jobs = 2;
	chunk_msg(&s, &m, 4);
	op_done(&s, 0, 0);
	op_done(&s, 0, 2);
	op_read_all(&s);
	save("sess-split.bin", &s);

	/* Harness Hello (producer), EnqueueBatch, both jobs answered later. */
	s.len = 0;
	put8(&s, 1 | WIRE_ROLE_PRODUCER << 1);
	chunk_msg(&s, &m, 1);
	op_done(&s, 0, 0);
	op_done(&s, 0, 0);
	op_read_all(&s);
	save("sess-enqueue.bin", &s);

	/* Consumer: Subscribe, Credit, a Deliver. */
	s.len = 0;
	put8(&s, 1 | WIRE_ROLE_CONSUMER << 1);
	subscribe(&s);
	m = (struct wire_msg_in){ .type = WIRE_MSG_CREDIT };
	m.u.credit.credit = 16;
	chunk_msg(&s, &m, 1);
	put8(&s, OP_DELIVER);
	put16le(&s, 100);
	op_read_all(&s);
	save("sess-subscribe.bin", &s);

	/* Consumer: Complete of three leases. */
	s.len = 0;
	put8(&s, 1 | WIRE_ROLE_CONSUMER << 1);
	subscribe(&s);
	m = (struct wire_msg_in){ .type = WIRE_MSG_COMPLETE };
	m.u.complete.seq = 5;
	m.u.complete.lease_ids = leases;
	m.u.complete.n = 3;
	chunk_msg(&s, &m, 1);
	op_done(&s, 0, 0);
	op_done(&s, 1, 13);
	op_done(&s, 0, 0);
	op_read_all(&s);
	save("sess-complete.bin", &s);

	/* Consumer: Fail. */
	s.len = 0;
	put8(&s, 1 | WIRE_ROLE_CONSUMER << 1);
	subscribe(&s);
	m = (struct wire_msg_in){ .type = WIRE_MSG_FAIL };
	m.u.fail.seq = 6;
	m.u.fail.lease_id = 12;
	m.u.fail.reason = wire_cstr("smtp 451");
	m.u.fail.retry_delay_ms = 500;
	chunk_msg(&s, &m, 1);
	op_done(&s, 0, 0);
	op_read_all(&s);
	save("sess-fail.bin", &s);

	/* Consumer: ExtendLease, then a RAW job_done for a slot not in use. */
	s.len = 0;
	put8(&s, 1 | WIRE_ROLE_CONSUMER << 1);
	subscribe(&s);
	m = (struct wire_msg_in){ .type = WIRE_MSG_EXTEND_LEASE };
	m.u.extend_lease.seq = 7;
	m.u.extend_lease.lease_ids = leases;
	m.u.extend_lease.n = 2;
	m.u.extend_lease.extend_ms = 30000;
	chunk_msg(&s, &m, 1);
	put8(&s, OP_RAW);
	put8(&s, 9);
	put16le(&s, 0);
	put8(&s, 0);
	op_done(&s, 0, 0);
	op_done(&s, 0, 0);
	op_read_all(&s);
	save("sess-extend.bin", &s);

	/* Ping, time passes, Goodbye. */
	s.len = 0;
	put8(&s, 1);
	m = (struct wire_msg_in){ .type = WIRE_MSG_PING };
	m.u.ping.nonce = 99;
	m.u.ping.time_ms = 1;
	chunk_msg(&s, &m, 1);
	put8(&s, OP_TICK);
	put16le(&s, 1000);
	m = (struct wire_msg_in){ .type = WIRE_MSG_GOODBYE };
	m.u.goodbye.message = wire_cstr("bye");
	chunk_msg(&s, &m, 1);
	op_read_all(&s);
	save("sess-ping.bin", &s);
}

/* ---- net: FRAME/INPUT/TIMER/SEND records ---- */

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip[4] = { 198, 18, 0, 2 };
static const uint8_t peer_ip[4] = { 198, 18, 0, 1 };

static uint16_t
cksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
eth(struct seed *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	put16be(f, type);
}

static void
arp(struct seed *f, uint16_t op, const uint8_t *tha, const uint8_t *tip)
{
	put16be(f, 1);
	put16be(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16be(f, op);
	put(f, peer_mac, 6);
	put(f, peer_ip, 4);
	put(f, tha, 6);
	put(f, tip, 4);
}

/* IPv4 + ICMP echo request of 32 data bytes. */
static void
icmp_echo(struct seed *f, uint16_t frag, bool bad_ip_cksum)
{
	uint8_t icmp[40];
	size_t at;
	uint16_t c;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 8; /* echo request */
	icmp[5] = 1;
	icmp[7] = 1;
	for (size_t i = 8; i < sizeof(icmp); i++)
		icmp[i] = (uint8_t)i;
	c = cksum(icmp, sizeof(icmp));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	eth(f, our_mac, peer_mac, 0x0800);
	at = f->len;
	put8(f, 0x45);
	put8(f, 0);
	put16be(f, (uint16_t)(20 + sizeof(icmp)));
	put16be(f, 0x1234);
	put16be(f, frag);
	put8(f, 64);
	put8(f, 1);
	put16be(f, 0);
	put(f, peer_ip, 4);
	put(f, our_ip, 4);
	c = cksum(f->b + at, 20);
	if (bad_ip_cksum)
		c ^= 0x5a5a;
	f->b[at + 10] = (uint8_t)(c >> 8);
	f->b[at + 11] = (uint8_t)c;
	put(f, icmp, sizeof(icmp));
}

static void
record_frame(struct seed *s, const struct seed *f)
{
	put8(s, 0);
	put16le(s, (uint16_t)f->len);
	put(s, f->b, f->len);
}

static void
record_input(struct seed *s)
{
	put8(s, 1 | 63 << 2);
}

static void
seeds_net(void)
{
	static const uint8_t zero_mac[6];
	struct seed s, f;

	s.len = 0;
	eth(&f, bcast, peer_mac, 0x0806);
	arp(&f, 1, zero_mac, our_ip);
	while (f.len < 60)
		put8(&f, 0);
	record_frame(&s, &f);
	record_input(&s);
	save("net-arp-request.bin", &s);

	s.len = 0;
	icmp_echo(&f, 0, false);
	record_frame(&s, &f);
	record_input(&s);
	save("net-icmp-echo.bin", &s);

	s.len = 0;
	icmp_echo(&f, 0x2000, false); /* MF */
	record_frame(&s, &f);
	icmp_echo(&f, 0x0005, false); /* offset 40 */
	record_frame(&s, &f);
	record_input(&s);
	save("net-fragment.bin", &s);

	s.len = 0;
	icmp_echo(&f, 0, true);
	record_frame(&s, &f);
	record_input(&s);
	save("net-bad-cksum.bin", &s);

	/* A packet for the peer waits for ARP; the peer's reply releases it. */
	s.len = 0;
	put8(&s, 3);
	put8(&s, 1);
	record_input(&s);
	eth(&f, our_mac, peer_mac, 0x0806);
	arp(&f, 2, our_mac, our_ip);
	while (f.len < 60)
		put8(&f, 0);
	record_frame(&s, &f);
	record_input(&s);
	put8(&s, 2);
	put16le(&s, 0xffff);
	record_input(&s);
	save("net-arp-pending.bin", &s);
}

/* ---- tcp: SYN/SEG/RAW/TIME/APP/DRAIN/SHAKE/BURST records (fuzz_tcp.c) ---- */

enum { T_SYN, T_SEG, T_RAW, T_TIME, T_APP, T_DRAIN, T_SHAKE, T_BURST };
enum { A_RECV, A_RECV_CHAIN, A_SEND, A_SEND_MBUF, A_CLOSE, A_ABORT, A_SHUT, A_CONNECT };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static void
put32le(struct seed *s, uint32_t v)
{
	put16le(s, (uint16_t)v);
	put16le(s, (uint16_t)(v >> 16));
}

/* SYN or SHAKE: port 0 = 5001, 1 = 5002, 2 = 5003, 3 = the last one */
static void
t_syn(struct seed *s, uint8_t op, uint8_t peer, uint8_t port, uint8_t opts, uint32_t isn)
{
	put8(s, op);
	put8(s, peer);
	put8(s, port);
	put8(s, opts);
	put8(s, 182); /* MSS 1457 */
	put8(s, 7);
	put32le(s, isn);
}

static void
t_seg(struct seed *s, uint8_t peer, uint8_t flags, int16_t dseq, int16_t dack, uint16_t len,
      uint16_t wnd, uint8_t misc)
{
	put8(s, T_SEG);
	put8(s, peer);
	put8(s, flags);
	put16le(s, (uint16_t)dseq);
	put16le(s, (uint16_t)dack);
	put16le(s, len);
	put16le(s, wnd);
	put8(s, misc);
}

static void
t_app(struct seed *s, uint8_t slot, uint8_t action, uint8_t arg)
{
	put8(s, T_APP);
	put8(s, slot);
	put8(s, action);
	put8(s, arg);
}

static void
t_time(struct seed *s, uint16_t ms)
{
	put8(s, T_TIME);
	put16le(s, ms);
}

static void
seeds_tcp(void)
{
	struct seed s;

	/* Handshake with every option, data both ways, FIN both ways. */
	s.len = 0;
	put8(&s, 1);
	t_syn(&s, T_SHAKE, 0, 0, 15, 1000);
	t_seg(&s, 0, F_ACK | F_PSH, 0, 0, 1000, 65535, 0);
	t_seg(&s, 0, F_ACK | F_PSH, 0, 0, 1000, 65535, 0);
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_RECV, 255);
	t_app(&s, 0, A_SEND, 100);
	put8(&s, T_DRAIN);
	t_seg(&s, 0, F_ACK | F_FIN, 0, 0, 10, 65535, 0);
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_RECV_CHAIN, 0);
	t_app(&s, 0, A_CLOSE, 0);
	put8(&s, T_DRAIN);
	t_seg(&s, 0, F_ACK, 0, 0, 0, 65535, 0);
	t_time(&s, 1500);
	put8(&s, T_DRAIN);
	save("tcp-handshake-data-fin.bin", &s);

	/* Out of order, overlapping, duplicate and chained segments. */
	s.len = 0;
	put8(&s, 1);
	t_syn(&s, T_SHAKE, 1, 1, 1, 0xfffff000);
	t_seg(&s, 1, F_ACK, 1000, 0, 500, 65535, 0);   /* [1000,1500) */
	t_seg(&s, 1, F_ACK, -900, 0, 600, 65535, 0);   /* [600,1200) */
	t_seg(&s, 1, F_ACK, -1300, 0, 400, 65535, 16); /* [200,600), chained */
	t_seg(&s, 1, F_ACK, -1500, 0, 700, 65535, 0);  /* [0,700) fills the hole */
	t_seg(&s, 1, F_ACK, -1500, 0, 300, 65535, 0);  /* old duplicate */
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_RECV, 255);
	t_app(&s, 0, A_RECV, 255);
	put8(&s, T_DRAIN);
	save("tcp-ooo-overlap.bin", &s);

	/* SYN backlog of 1: the second SYN gets a cookie, its ACK completes it. */
	s.len = 0;
	put8(&s, 2);
	t_syn(&s, T_SYN, 0, 0, 15, 5);
	t_syn(&s, T_SHAKE, 1, 0, 15, 77777);
	t_seg(&s, 1, F_ACK | F_PSH, 0, 0, 300, 65535, 0);
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_RECV, 100);
	t_app(&s, 0, A_SEND_MBUF, 200);
	put8(&s, T_DRAIN);
	t_time(&s, 3000);
	put8(&s, T_DRAIN);
	save("tcp-syn-cookie.bin", &s);

	/* An active open answered with a SYN-ACK, data, half close, timers. */
	s.len = 0;
	put8(&s, 1);
	t_app(&s, 0, A_CONNECT, 2);
	put8(&s, T_DRAIN);
	t_syn(&s, T_SYN, 2, 3, 16 | 8 | 2 | 1, 424242);
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_SEND, 255);
	put8(&s, T_DRAIN);
	t_time(&s, 300);
	put8(&s, T_DRAIN);
	t_seg(&s, 2, F_ACK, 0, 0, 0, 0, 0);
	t_time(&s, 2000);
	put8(&s, T_DRAIN);
	t_seg(&s, 2, F_ACK, 0, 0, 0, 65535, 0);
	t_app(&s, 0, A_SHUT, 0);
	put8(&s, T_DRAIN);
	t_seg(&s, 2, F_ACK | F_FIN, 0, 0, 0, 65535, 0);
	put8(&s, T_DRAIN);
	t_time(&s, 1500);
	save("tcp-active-open.bin", &s);

	/* Blind RST and SYN in the window (challenged), then the exact RST. */
	s.len = 0;
	put8(&s, 1 | 4);
	t_syn(&s, T_SHAKE, 3, 0, 8, 99);
	t_seg(&s, 3, F_RST, 100, 0, 0, 0, 0);
	t_seg(&s, 3, F_SYN, 50, 0, 0, 65535, 0);
	t_seg(&s, 3, F_ACK, 30000, 0, 10, 65535, 0x80); /* out of window */
	t_seg(&s, 3, F_ACK, 0, 0, 0, 65535, 2);         /* PAWS */
	put8(&s, T_DRAIN);
	put8(&s, T_BURST);
	put8(&s, 7);
	t_seg(&s, 3, F_RST, 0, 0, 0, 0, 0);
	put8(&s, T_DRAIN);
	t_app(&s, 0, A_RECV, 1);
	save("tcp-rst-syn-inject.bin", &s);

	/* Data out, three duplicate ACKs with SACK blocks, then the full ACK. */
	s.len = 0;
	put8(&s, 1);
	t_syn(&s, T_SHAKE, 0, 0, 15, 31337);
	t_app(&s, 0, A_SEND, 255);
	put8(&s, T_DRAIN);
	for (int k = 0; k < 3; k++) {
		t_seg(&s, 0, F_ACK, 0, -3000, 0, 65535, 4);
		put16le(&s, 2000); /* SACK [next - 2000, next - 1000) */
		put16le(&s, 1000);
		put16le(&s, 500); /* and [next - 500, next) */
		put16le(&s, 500);
	}
	put8(&s, T_DRAIN);
	t_seg(&s, 0, F_ACK, 0, 0, 0, 65535, 0);
	t_time(&s, 500);
	put8(&s, T_DRAIN);
	save("tcp-sack-recovery.bin", &s);

	/* A raw segment with odd options (NOP, unknown kind, EOL). */
	s.len = 0;
	put8(&s, 0);
	t_syn(&s, T_SHAKE, 0, 0, 0, 1);
	put8(&s, T_RAW);
	put8(&s, 0);
	put16le(&s, 32);
	put16be(&s, 40000);
	put16be(&s, 5001);
	put32le(&s, 0x02000000); /* big-endian 2: the next sequence number */
	put32le(&s, 0);
	put8(&s, 0x80);
	put8(&s, F_ACK);
	put16be(&s, 1000);
	put16be(&s, 0);
	put16be(&s, 0);
	put8(&s, 1);
	put8(&s, 99);
	put8(&s, 3);
	put8(&s, 7);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, T_DRAIN);
	save("tcp-raw-options.bin", &s);
}

/* ---- tokens ---- */

static void __attribute__((format(printf, 2, 3))) text(struct seed *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)s->b + s->len, sizeof(s->b) - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->b) - s->len)
		die("token seed too large");
	s->len += (size_t)n;
}

static void
seeds_tokens(void)
{
	static const char hash[] =
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct seed s;

	s.len = 0;
	text(&s, "# principals\n\ndemo both %s emails,billing.* * 262144 15\n", hash);
	text(&s, "\tworker-1\tconsumer %s  jobs.*   send,charge 0 0  # trailing\r\n", hash);
	text(&s, "p:x producer %s * * 8388608 7\n", hash);
	save("tokens-valid.txt", &s);

	s.len = 0;
	text(&s, "demo admin %s emails * 1024 3\n", hash);
	save("tokens-bad-role.txt", &s);

	/* A long comment, close to the 4094-byte line limit (and a larger max_len). */
	s.len = 0;
	text(&s, "demo producer %s emails * 1024 3 # ", hash);
	while (s.len < 4080)
		text(&s, "note ");
	text(&s, "\nops consumer %s jobs.* * 0 0\n", hash);
	save("tokens-long-comment.txt", &s);
}

/* ---- tls: a real ClientHello ---- */

struct pipe {
	uint8_t b[8192];
	size_t len;
};

static int
pipe_send(void *arg, const unsigned char *p, size_t n)
{
	struct pipe *pp = arg;

	if (n > sizeof(pp->b) - pp->len)
		n = sizeof(pp->b) - pp->len;
	memcpy(pp->b + pp->len, p, n);
	pp->len += n;
	return (int)n;
}

static int
pipe_recv(void *arg, unsigned char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return MBEDTLS_ERR_SSL_WANT_READ;
}

/*
 * A ticket as tls.c seals it, with the key fuzz_tls_server installs (id 1,
 * 32 x 0x11) and its clock (1700000000): [id][created][IV][session][tag].
 */
static size_t
sealed_ticket(uint8_t *t, size_t cap)
{
	static const uint8_t iv[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t key[32];
	mbedtls_ssl_session sess;
	mbedtls_gcm_context gcm;
	size_t slen = 0;

	memset(key, 0x11, sizeof(key));
	mbedtls_ssl_session_init(&sess);
	sess.ciphersuite = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	sess.start = 1700000000;
	memset(sess.master, 0x42, sizeof(sess.master));
	if (mbedtls_ssl_session_save(&sess, t + 20, cap - 20 - 16, &slen) != 0)
		die("mbedtls_ssl_session_save failed");
	mbedtls_ssl_session_free(&sess);
	t[0] = t[1] = t[2] = 0;
	t[3] = 1;
	t[4] = (uint8_t)(1700000000u >> 24);
	t[5] = (uint8_t)(1700000000u >> 16);
	t[6] = (uint8_t)(1700000000u >> 8);
	t[7] = (uint8_t)1700000000u;
	memcpy(t + 8, iv, sizeof(iv));
	mbedtls_gcm_init(&gcm);
	if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) != 0 ||
	    mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, slen, iv, sizeof(iv), t, 8, t + 20,
				      t + 20, 16, t + 20 + slen) != 0)
		die("sealing the seed ticket failed");
	mbedtls_gcm_free(&gcm);
	return 20 + slen + 16;
}

/* A ClientHello from mbedTLS; with_ticket: offering a sealed ticket. */
static void
client_hello(const char *name, bool with_ticket)
{
	static const char *alpn[] = { "sluice/1", NULL };
	static const char pers[] = "sluice-fuzz-seedgen";
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	struct pipe out = { .len = 0 };
	struct seed s;
	int rc;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				  (const unsigned char *)pers, sizeof(pers) - 1) != 0 ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		die("mbedTLS client setup failed");
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_session_tickets(&conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	if (mbedtls_ssl_conf_alpn_protocols(&conf, alpn) != 0 ||
	    mbedtls_ssl_setup(&ssl, &conf) != 0 ||
	    mbedtls_ssl_set_hostname(&ssl, "sluice.test") != 0)
		die("mbedTLS client setup failed");
	if (with_ticket) {
		mbedtls_ssl_session resume;
		uint8_t t[1024];
		size_t tlen = sealed_ticket(t, sizeof(t));

		mbedtls_ssl_session_init(&resume);
		resume.ciphersuite = MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
		resume.ticket = malloc(tlen);
		if (!resume.ticket)
			die("out of memory");
		memcpy(resume.ticket, t, tlen);
		resume.ticket_len = tlen;
		resume.ticket_lifetime = 3600;
		if (mbedtls_ssl_set_session(&ssl, &resume) != 0)
			die("mbedtls_ssl_set_session failed");
		mbedtls_ssl_session_free(&resume);
	}
	mbedtls_ssl_set_bio(&ssl, &out, pipe_send, pipe_recv, NULL);
	rc = mbedtls_ssl_handshake(&ssl);
	if (rc != MBEDTLS_ERR_SSL_WANT_READ || out.len == 0)
		die("no ClientHello from mbedTLS");
	s.len = 0;
	put(&s, out.b, out.len);
	save(name, &s);
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz_seedgen sess|net|tcp|tokens|tls OUTDIR\n");
		return 1;
	}
	outdir = argv[2];
	if (!strcmp(argv[1], "sess"))
		seeds_sess();
	else if (!strcmp(argv[1], "net"))
		seeds_net();
	else if (!strcmp(argv[1], "tcp"))
		seeds_tcp();
	else if (!strcmp(argv[1], "tokens"))
		seeds_tokens();
	else if (!strcmp(argv[1], "tls")) {
		client_hello("tls-client-hello.bin", false);
		client_hello("tls-client-hello-ticket.bin", true);
	} else
		die("unknown kind; use sess, net, tcp, tokens or tls");
	return 0;
}
