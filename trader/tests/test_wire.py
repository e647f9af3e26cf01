"""
The Python codec against the TypeScript contract: its constants against schema/frame.ts (through the
schema export), its bytes against the TS codec itself (tests/frame-oracle.ts) and against the shared golden
vectors (schema/golden/frames.json), and its stream reassembly at every chunk boundary.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import golden_path
from conftest import load_golden
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tapewire_trader import wire
from tapewire_trader.core import REPO_ROOT
from tapewire_trader.schema import bun_executable
from tapewire_trader.wire import FRAME_SIZE
from tapewire_trader.wire import Frame
from tapewire_trader.wire import FrameBatchDecoder
from tapewire_trader.wire import FrameError
from tapewire_trader.wire import decode_frame
from tapewire_trader.wire import encode_frame
from tapewire_trader.wire import validate_frame

MAX_SAFE = 2**53 - 1


def oracle(requests: list[dict]) -> list[dict]:
    done = subprocess.run(
        [bun_executable(), "trader/tests/frame-oracle.ts"],
        cwd=REPO_ROOT,
        input="\n".join(json.dumps(r) for r in requests) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line]


def ts_fields(f: Frame) -> dict:
    return {
        "kind": f.kind,
        "flags": f.flags,
        "exchange": f.exchange,
        "instrument": f.instrument,
        "seq": f.seq,
        "id": f.id,
        "price": f.price,
        "size": f.size,
        "tsExchange": f.ts_exchange,
        "tsRecv": f.ts_recv,
    }


# The contract ------------------------------------------------------------------------------------------


def test_frame_layout_is_schema_frame_ts(export):
    assert export["frameSize"] == FRAME_SIZE == 48
    assert export["wireVersion"] == wire.WIRE_VERSION
    assert export["offsets"] == wire.OFFSETS
    # The struct itself puts each field at that offset: pack distinct bytes and find them.
    probe = wire.FRAME.pack(0xA1, 0xB2, 0x0403, 0x08070605, 0x100F0E0D0C0B0A09, 0, 0, 0, 0)
    assert probe[export["offsets"]["kindFlags"]] == 0xA1
    assert probe[export["offsets"]["versionExchange"]] == 0xB2
    assert probe[export["offsets"]["instrument"]] == 0x03
    assert probe[export["offsets"]["seq"]] == 0x05
    assert probe[export["offsets"]["id"]] == 0x09
    for name in ("price", "size", "tsExchange", "tsRecv"):
        values = {"price": 0, "size": 0, "tsExchange": 0, "tsRecv": 0, name: 0x7F}
        packed = wire.FRAME.pack(0, 0, 0, 0, 0, values["price"], values["size"], values["tsExchange"], values["tsRecv"])
        assert packed.index(0x7F) == export["offsets"][name]


def test_codes_are_schema_frame_ts(export):
    assert export["kinds"] == {n: c for c, n in wire.KIND_NAMES.items()}
    assert export["exchanges"] == {n: c for c, n in wire.EXCHANGE_NAMES.items()}
    assert {int(k): v for k, v in export["statuses"].items()} == wire.STATUS_NAMES
    assert {int(k): v for k, v in export["frameErrors"].items()} == {e.value: e.name.lower() for e in FrameError}
    assert export["flags"] == {
        "takerBuy": wire.FLAG_TAKER_BUY,
        "takerSell": wire.FLAG_TAKER_SELL,
        "backfill": wire.FLAG_BACKFILL,
        "ask": wire.FLAG_ASK,
        "snapshot": wire.FLAG_SNAPSHOT,
        "begin": wire.FLAG_BEGIN,
        "end": wire.FLAG_END,
    }
    assert export["maxMantissa"] == wire.MAX_MANTISSA
    assert export["maxStatus"] == wire.MAX_STATUS
    assert tuple(export["knownFlags"]) == wire.KNOWN_FLAGS


# Against the TypeScript codec ----------------------------------------------------------------------------
# One oracle run per test (bun starts in ~0.2 s): hypothesis draws big batches, few examples.

frames = st.builds(
    Frame,
    kind=st.integers(1, 4),
    flags=st.sampled_from(range(0, 256, 16)),
    exchange=st.integers(1, 3),
    instrument=st.integers(0, 65535),
    seq=st.integers(0, 2**32 - 1),
    id=st.integers(0, MAX_SAFE),
    price=st.integers(-MAX_SAFE, MAX_SAFE),
    size=st.integers(-MAX_SAFE, MAX_SAFE),
    ts_exchange=st.integers(-MAX_SAFE, MAX_SAFE),
    ts_recv=st.integers(-MAX_SAFE, MAX_SAFE),
    version=st.just(wire.WIRE_VERSION),
)


@settings(max_examples=8, deadline=None)
@given(st.lists(frames, min_size=1, max_size=400))
def test_encode_matches_typescript(batch):
    answers = oracle([{"encode": ts_fields(f)} for f in batch])
    assert [a["hex"] for a in answers] == [encode_frame(f).hex() for f in batch]


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(min_size=FRAME_SIZE, max_size=FRAME_SIZE),
            frames.map(encode_frame),  # mostly-valid frames, so "none" and the value rules are exercised
        ),
        min_size=1,
        max_size=400,
    ),
)
def test_decode_and_validate_match_typescript(batch):
    # The fields the TS reader gets exactly (|v| <= 2^53) must agree; the verdict must agree always.
    answers = oracle([{"decode": b.hex()} for b in batch])
    for raw, answer in zip(batch, answers, strict=True):
        assert validate_frame(raw).name.lower() == answer["error"], raw.hex()
        mine = ts_fields(decode_frame(raw))
        for key, theirs in answer["fields"].items():
            if abs(mine[key]) <= MAX_SAFE:
                assert mine[key] == theirs, (key, raw.hex())


def test_every_error_code_matches_typescript():
    base = encode_frame(Frame(1, wire.FLAG_TAKER_BUY, 1, 1, 1, 1, 5, 5, 0, 0))
    cases = {
        "none": base,
        "bad_version": base[:1] + bytes([0x21]) + base[2:],
        "unknown_kind": bytes([0x05]) + base[1:],
        "unknown_exchange": base[:1] + bytes([0x14]) + base[2:],
        "truncated": base[:47],
        "unknown_status": bytes([0xF4]) + base[1:],
        "unknown_flags": bytes([0x31]) + base[1:],
        "bad_price": encode_frame(Frame(1, 0x10, 1, 1, 1, 1, 0, 5, 0, 0)),
        "bad_size": encode_frame(Frame(1, 0x10, 1, 1, 1, 1, 5, -1, 0, 0)),
    }
    answers = oracle([{"decode": raw.hex()} for raw in cases.values()])
    for (name, raw), answer in zip(cases.items(), answers, strict=True):
        assert answer["error"] == name
        assert validate_frame(raw).name.lower() == name
    assert {c.name.lower() for c in FrameError} == set(cases)


def test_head_fast_path_agrees_with_head_error_for_every_byte_pair():
    decoder = FrameBatchDecoder()
    body = bytes(46)
    for b0 in range(256):
        chunk = b"".join(bytes([b0, b1]) + body for b1 in range(256))
        kept = {(t[0], t[1]) for t in decoder.feed(chunk)}
        for b1 in range(256):
            ok = wire.head_error(b0, b1) == FrameError.NONE and wire.value_error(b0, 0, 0) == FrameError.NONE
            assert ((b0, b1) in kept) == ok, (b0, b1)


# The golden vectors ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden():
    if not golden_path().exists():
        pytest.fail(f"golden vectors missing: {golden_path()} (schema/golden, `bun run golden`)")
    return load_golden()


def test_golden_metadata_is_this_codec(golden):
    assert golden["format"] == "tapewire wire frames"
    assert golden["version"] == wire.WIRE_VERSION
    assert golden["frameSize"] == FRAME_SIZE
    assert golden["byteOrder"] == "little-endian" and wire.FRAME.format.startswith("<")
    assert golden["offsets"] == wire.OFFSETS
    assert {int(k): v for k, v in golden["kinds"].items()} == wire.KIND_NAMES
    assert {int(k): v for k, v in golden["exchanges"].items()} == wire.EXCHANGE_NAMES
    assert {int(k): v for k, v in golden["statuses"].items()} == wire.STATUS_NAMES
    assert {int(k): v for k, v in golden["resyncReasons"].items()} == wire.RESYNC_REASON_NAMES
    assert {int(k): v for k, v in golden["errors"].items()} == {e.value: e.name.lower() for e in FrameError}


def test_golden_vectors_byte_for_byte(golden):
    seen_kinds, seen_statuses, seen_errors, seen_flags = set(), set(), set(), set()
    for v in golden["vectors"]:
        raw = bytes.fromhex(v["hex"])
        want = v["fields"]
        f = decode_frame(raw)
        got = {
            "kind": wire.KIND_NAMES.get(f.kind, "unknown"),
            "kindCode": f.kind,
            "flags": f.flags,
            "flagNames": wire.flag_names(f.kind, f.flags),
            "version": f.version,
            "exchange": wire.EXCHANGE_NAMES.get(f.exchange, "unknown"),
            "exchangeCode": f.exchange,
            "instrument": f.instrument,
            "seq": f.seq,
            "id": str(f.id),
            "price": str(f.price),
            "size": str(f.size),
            "tsExchange": str(f.ts_exchange),
            "tsRecv": str(f.ts_recv),
        }
        if f.kind == wire.Kind.STATUS:
            got["statusCode"] = f.status
            got["status"] = wire.STATUS_NAMES.get(f.status, "unknown")
            if f.status == wire.Status.BOOK_RESYNC and f.id in wire.RESYNC_REASON_NAMES:
                got["resyncReason"] = wire.RESYNC_REASON_NAMES[f.id]
        assert got == want, v["name"]
        assert validate_frame(raw).name.lower() == v["error"], v["name"]
        assert encode_frame(f) == raw, v["name"]
        seen_errors.add(v["error"])
        if v["error"] == "none":
            seen_kinds.add(f.kind)
            seen_flags.update((f.kind, n) for n in got["flagNames"])
            if f.kind == wire.Kind.STATUS:
                seen_statuses.add(f.status)
    # The file must exercise every kind, flag, status code and refusal this codec knows.
    assert seen_kinds == set(wire.KIND_NAMES)
    assert seen_statuses == set(wire.STATUS_NAMES)
    assert seen_flags == {(k, name) for k, names in wire.FLAG_NAMES.items() for _, name in names}
    assert seen_errors == {e.name.lower() for e in FrameError} - {"truncated"}


def test_golden_vectors_through_the_batch_decoder(golden):
    stream = b"".join(bytes.fromhex(v["hex"]) for v in golden["vectors"])
    d = FrameBatchDecoder()
    kept = d.feed(stream)
    accepted = [bytes.fromhex(v["hex"]) for v in golden["vectors"] if v["error"] == "none"]
    assert [wire.FRAME.pack(*t) for t in kept] == accepted
    refused = sum(1 for v in golden["vectors"] if v["error"] != "none")
    assert sum(d.invalid.values()) == refused


# Stream reassembly -----------------------------------------------------------------------------------------


def test_batch_decoder_at_every_chunk_boundary():
    stream = b"".join(
        encode_frame(Frame(1 + i % 4, 0x80 if i % 4 in (1, 2) else 0, 1 + i % 3, i, i, i, 1 + i, 1 + i, i, i))
        for i in range(6)
    )
    whole = FrameBatchDecoder().feed(stream)
    assert len(whole) == 6
    for cut in range(len(stream) + 1):
        for cut2 in range(cut, len(stream) + 1, 7):
            d = FrameBatchDecoder()
            got = d.feed(stream[:cut]) + d.feed(stream[cut:cut2]) + d.feed(stream[cut2:])
            assert got == whole, (cut, cut2)
            assert d.pending_bytes == 0


def test_batch_decoder_skips_invalid_frames_and_stays_aligned():
    good = encode_frame(Frame(1, 0x10, 1, 1, 1, 7, 100, 5, 0, 0))
    bad_version = good[:1] + bytes([0x21]) + good[2:]
    bad_price = encode_frame(Frame(1, 0x10, 1, 1, 1, 7, 0, 5, 0, 0))
    d = FrameBatchDecoder()
    got = d.feed(good + bad_version + bad_price + good)
    assert len(got) == 2
    assert d.invalid == {FrameError.BAD_VERSION: 1, FrameError.BAD_PRICE: 1}
    assert d.frames == 2
