"""Tests for syncthing_async._deviceid.

The format: https://docs.syncthing.net/dev/device-ids.html and Syncthing's lib/protocol/deviceid.go.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import pickle
import re
import ssl
import string
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncthing_async._deviceid import _ALPHABET, DeviceID, _luhn32, to_device_id_str
from syncthing_async._exceptions import InvalidDeviceIDError, SyncthingError

SYNCTHING = "/usr/bin/syncthing"

# Real IDs: the docs' examples (docs.syncthing.net/dev/device-ids.html) and a real 1.19.2's.
M47 = "M47G4QY-UXIKMM5-SVL72PN-XOVLWTB-2IO6QUE-5W2JP6D-XASA7C7-SRFSGQH"
P56 = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"
TCJ = "TCJZTUK-H3TFKTL-MLJTN4M-CVKFO2U-YKPAMCA-5PYXEIT-2YXOULE-TU2RTQ4"
DOC = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"
REAL_IDS = [M47, P56, TCJ, DOC]

raw_ids = st.binary(min_size=32, max_size=32).filter(lambda b: b != bytes(32))


def compact(dashed: str) -> str:
    return dashed.replace("-", "")


def legacy(dashed: str) -> str:
    """The 52-character form: drop the check character of each 14-character block."""
    c = compact(dashed)
    return "".join(c[i : i + 13] for i in range(0, 56, 14))


# --- luhn32 exactly as Syncthing's lib/protocol/luhn.go computes it ---------------------------


@pytest.mark.parametrize(
    ("data", "check"),
    [
        # worked by hand: weights 1,2,1,... from the FIRST character
        ("ABC", "4"),  # 1*0 + 2*1 + 1*2 = 4 -> (32-4)%32 = 28 -> '4' (weights 2,1,2 would give '3')
        ("7", "B"),  # 1*31 = 31 -> 1 -> 'B'
        ("A7", "B"),  # 0 + (62//32 + 62%32 = 31) -> 'B'
        ("", "A"),
        ("AAAAAAAAAAAAA", "A"),
        # from the documented ID MFZWI3D-BONSGYC-...: data groups and their check characters
        ("MFZWI3DBONSGY", "C"),
        ("YLTMRWGC43ENR", "5"),
        ("QXGZDMMFZWI3D", "P"),
        ("BONSGYYLTMRWA", "D"),
    ],
)
def test_luhn32_hand_values(data: str, check: str) -> None:
    assert _luhn32(data) == check


# --- real examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("p56ioi7m--zjnu2iq-gdr-eydm-2mgtmgl3bxnpq6w5btbbz4tjxzwicq", P56),  # legacy, 52 chars
        ("m47g4qyuxikmm5svl72pnx0vlwtb2i06que5w2jp6dxasa7c7srfsgqh", M47),  # lower, 0 typos
        ("m47g4qy-uxikmm5-svl72pn-xovlwtb-2io6que-5w2jp6d-xasa7c7-srfsgqh", M47),
        (M47, M47),
        (P56, P56),
        (TCJ, TCJ),
        (DOC, DOC),
    ],
)
def test_real_examples(text: str, canonical: str) -> None:
    dev = DeviceID.parse(text)
    assert str(dev) == canonical
    assert dev == text
    assert dev == canonical
    assert to_device_id_str(text) == canonical
    assert DeviceID.is_valid(text)


def test_legacy_form_of_real_ids_matches() -> None:
    for dashed in REAL_IDS:
        assert len(legacy(dashed)) == 52
        assert DeviceID(legacy(dashed)) == DeviceID(dashed)
        assert str(DeviceID(legacy(dashed).lower())) == dashed


def test_doc_example_decodes_to_its_bytes() -> None:
    # The documented ID is base32 of a readable 32-byte string; check the bytes really round trip.
    dev = DeviceID(DOC)
    assert base64.b32encode(dev.raw).decode().rstrip("=") == legacy(DOC)
    assert DeviceID.from_bytes(dev.raw) == dev


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        M47.lower(),
        compact(M47),
        compact(M47).lower(),
        M47.replace("-", " "),
        M47.replace("-", " - "),
        "--" + M47.replace("-", "---") + "--",
        " " + M47 + " ",
        "==" + M47 + "=",
        "=" + M47.lower().replace("-", "") + "====",
        M47.replace("O", "0").replace("I", "1"),  # typos 0 -> O, 1 -> I
        M47.swapcase(),
    ],
)
def test_normalisation(variant: str) -> None:
    assert str(DeviceID(variant)) == M47
    assert DeviceID(variant) == M47


def test_typo_8_is_b() -> None:
    dev = DeviceID("B" * 52)
    assert str(dev).startswith("BBBBBBB")
    assert DeviceID("8" * 52) == dev
    assert DeviceID(str(dev).replace("B", "8")) == dev


def test_equals_inside_is_not_stripped() -> None:
    with pytest.raises(InvalidDeviceIDError, match=r"character '=' at position 9 "):
        DeviceID(M47[:8] + "=" + M47[9:])


# --- lengths and characters -------------------------------------------------------------------


@pytest.mark.parametrize("n", [n for n in range(1, 130) if n not in (52, 56)])
def test_every_wrong_length(n: int) -> None:
    text = (compact(M47) * 3)[:n]
    with pytest.raises(InvalidDeviceIDError) as info:
        DeviceID.parse(text)
    msg = str(info.value)
    assert "incorrect length" in msg
    assert f"{n} characters" in msg
    assert "expected 56 (or 52" in msg
    assert not DeviceID.is_valid(text)
    # the same length counted without dashes and spaces
    dashed = "-".join(text[i : i + 7] for i in range(0, n, 7))
    with pytest.raises(InvalidDeviceIDError, match=f" {n} characters without dashes"):
        DeviceID.parse(" " + dashed + " ")


def test_wrong_length_quotes_the_input() -> None:
    with pytest.raises(InvalidDeviceIDError, match=r"^invalid device ID 'ABC': incorrect length"):
        DeviceID("ABC")
    with pytest.raises(InvalidDeviceIDError, match=r"'NOT-A-DEVICE-ID'"):
        DeviceID("NOT-A-DEVICE-ID")


@pytest.mark.parametrize("text", ["", "-", "   ", "====", "- -=", "=-="])
def test_empty_is_an_error(text: str) -> None:
    with pytest.raises(InvalidDeviceIDError, match="empty"):
        DeviceID.parse(text)
    with pytest.raises(InvalidDeviceIDError):
        to_device_id_str(text)
    assert not DeviceID.is_valid(text)


@pytest.mark.parametrize("text", ["A" * 56, "A" * 52, "aaaaaaa-" * 7 + "aaaaaaa"])
def test_all_zero_id_is_an_error(text: str) -> None:
    # Syncthing decodes these to EmptyDeviceID; the client never wants that silently.
    with pytest.raises(InvalidDeviceIDError, match=r"empty \(all-zero\)"):
        DeviceID.parse(text)
    with pytest.raises(InvalidDeviceIDError, match=r"empty \(all-zero\)"):
        DeviceID.from_bytes(bytes(32))


_BAD_CHARS = [
    c
    for c in string.printable + "\u00e9\u0131\u017f\uff21\u00a0\u200b"
    if c not in _ALPHABET and c not in "-= 018" and not ("a" <= c <= "z")
]


@pytest.mark.parametrize("bad", _BAD_CHARS)
def test_invalid_character(bad: str) -> None:
    for pos in (0, 30, 62):  # first data char, middle, last check char of the dashed form
        text = M47[:pos] + bad + M47[pos + 1 :]
        with pytest.raises(InvalidDeviceIDError) as info:
            DeviceID.parse(text)
        msg = str(info.value)
        assert f"character {bad!r} at position {pos + 1} is not allowed" in msg
        assert msg.startswith(f"invalid device ID {text!r}")
        assert not DeviceID.is_valid(text)
    # and in the 52-character form
    text = legacy(M47)[:51] + bad
    with pytest.raises(InvalidDeviceIDError, match="at position 52 is not allowed"):
        DeviceID.parse(text)


def test_non_ascii_letters_are_not_upper_cased() -> None:
    # Dotless i and long s upper-case to 'I' and 'S' in Unicode; only ASCII is folded here.
    i = M47.index("I")
    for char in ("\u0131", "\u017f"):
        with pytest.raises(InvalidDeviceIDError, match=f"{char!r} at position {i + 1} "):
            DeviceID(M47[:i] + char + M47[i + 1 :])


def test_live_wrong_check_character() -> None:
    # a real 1.19.2: Syncthing answers "check digit incorrect" for this one.
    text = M47[:-1] + "A"
    with pytest.raises(InvalidDeviceIDError) as info:
        DeviceID(text)
    msg = str(info.value)
    assert msg.startswith(f"invalid device ID {text!r}: check character 'A'")
    assert "group 8" in msg


@pytest.mark.parametrize("block", range(4))
def test_check_error_names_the_group(block: int) -> None:
    chars = list(compact(TCJ))
    pos = block * 14 + 13
    chars[pos] = "A" if chars[pos] != "A" else "B"
    with pytest.raises(InvalidDeviceIDError, match=f"end of group {2 * block + 2} does not match"):
        DeviceID("".join(chars))
    # a data typo in the first half of the block is reported on the same group
    chars = list(compact(TCJ))
    chars[block * 14] = "Z" if chars[block * 14] != "Z" else "Y"
    with pytest.raises(InvalidDeviceIDError, match=f"groups {2 * block + 1}-{2 * block + 2}"):
        DeviceID("".join(chars))


def test_long_input_is_truncated_in_message() -> None:
    with pytest.raises(InvalidDeviceIDError) as info:
        DeviceID("X" * 10_000)
    assert len(str(info.value)) < 400
    assert "(10000 characters)" in str(info.value)


def test_error_types() -> None:
    with pytest.raises(ValueError, match="incorrect length"):
        DeviceID("nope")
    assert issubclass(InvalidDeviceIDError, SyncthingError)
    for bad in (None, 42, b"ABC", ["x"]):
        with pytest.raises(TypeError):
            DeviceID.parse(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            to_device_id_str(bad)  # type: ignore[arg-type]
        assert not DeviceID.is_valid(bad)


# --- bytes and certificates -------------------------------------------------------------------


def test_from_bytes_and_raw() -> None:
    raw = bytes(range(32))
    dev = DeviceID.from_bytes(raw)
    assert dev.raw == raw
    assert DeviceID.from_bytes(bytearray(raw)) == dev
    assert DeviceID.from_bytes(memoryview(raw)) == dev
    for n in (0, 1, 31, 33, 64):
        with pytest.raises(InvalidDeviceIDError, match=f"32 bytes, got {n}"):
            DeviceID.from_bytes(b"\x01" * n)
    with pytest.raises(TypeError):
        DeviceID.from_bytes("A" * 32)  # type: ignore[arg-type]


def test_special_internal_ids() -> None:
    # LocalDeviceID (32 x 0xFF) and GlobalDeviceID (32 x 0xF8) are ordinary encodings.
    local = DeviceID.from_bytes(b"\xff" * 32)
    assert str(local).startswith("7777777-")
    assert DeviceID(str(local)) == local
    glob = DeviceID.from_bytes(b"\xf8" * 32)
    assert DeviceID(str(glob)).raw == b"\xf8" * 32


def test_from_certificate_der_is_sha256() -> None:
    der = b"0\x82\x01\x00not really a certificate"
    assert DeviceID.from_certificate_der(der).raw == hashlib.sha256(der).digest()


def test_real_certificate_from_syncthing_generate(tmp_path: Path) -> None:
    assert os.path.exists(SYNCTHING), f"{SYNCTHING} is required for this test"
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(tmp_path), "STNODEFAULTFOLDER": "1"}
    proc = subprocess.run(
        [SYNCTHING, "generate", f"--home={home}", "--no-default-folder", "--skip-port-probing"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    found = re.findall(r"Device ID: ([A-Z2-7-]{63})", proc.stdout + proc.stderr)
    assert len(found) == 1, proc.stdout + proc.stderr
    printed = found[0]
    der = ssl.PEM_cert_to_DER_cert((home / "cert.pem").read_text())
    dev = DeviceID.from_certificate_der(der)
    assert str(dev) == printed
    assert DeviceID(printed) == dev
    assert dev.short == printed[:7]


# --- value-type behaviour -----------------------------------------------------------------------


def test_str_repr_short() -> None:
    dev = DeviceID(M47.lower())
    assert str(dev) == M47
    assert len(str(dev)) == 63
    assert repr(dev) == f"DeviceID('{M47}')"
    assert eval(repr(dev), {"DeviceID": DeviceID}) == dev
    assert dev.short == "M47G4QY"
    assert f"{dev}" == M47


def test_equality() -> None:
    dev = DeviceID(M47)
    assert dev == DeviceID(M47.lower())
    assert dev == M47.lower()
    assert M47.lower() == dev  # reflected
    assert dev == legacy(M47)
    assert dev != P56
    assert dev != DeviceID(P56)
    assert dev != "garbage"  # invalid strings compare unequal, never raise
    assert dev != ""
    assert dev != M47[:-1] + "A"
    assert dev != 42
    assert dev != dev.raw
    assert dev.__eq__(42) is NotImplemented
    assert DeviceID(dev) is dev
    assert DeviceID.parse(dev) is dev


def test_hash() -> None:
    a, b = DeviceID(M47), DeviceID(M47.lower())
    assert hash(a) == hash(b)
    assert hash(a) == hash(M47)  # hashes like its canonical string
    assert len({a, b, DeviceID(P56)}) == 2
    table: dict[object, str] = {a: "peer"}
    assert table[b] == "peer"
    assert table[M47] == "peer"  # canonical string finds the DeviceID key
    by_str: dict[object, int] = {M47: 1}
    assert by_str[a] == 1


def test_immutable() -> None:
    dev = DeviceID(M47)
    with pytest.raises(AttributeError):
        dev._raw = b"x" * 32
    with pytest.raises(AttributeError):
        dev.other = 1
    with pytest.raises(AttributeError):
        del dev._str
    assert str(dev) == M47
    assert not hasattr(dev, "__dict__")


def test_pickle_and_copy() -> None:
    dev = DeviceID(M47)
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(dev, proto)) == dev
    assert copy.copy(dev) == dev
    assert copy.deepcopy(dev) == dev


def test_to_device_id_str() -> None:
    assert to_device_id_str(DeviceID(P56)) == P56
    assert to_device_id_str(" " + P56.lower() + " ") == P56
    with pytest.raises(InvalidDeviceIDError, match="'XYZ'"):
        to_device_id_str("XYZ")


# --- properties -------------------------------------------------------------------------------


@given(raw=raw_ids)
def test_round_trip(raw: bytes) -> None:
    dev = DeviceID.from_bytes(raw)
    text = str(dev)
    assert re.fullmatch(r"([A-Z2-7]{7}-){7}[A-Z2-7]{7}", text)
    assert DeviceID.parse(text) == dev
    assert DeviceID.parse(text).raw == raw
    assert DeviceID.parse(legacy(text)) == dev
    assert DeviceID.parse(text.lower().replace("-", "")) == dev
    assert dev.short == base64.b32encode(raw[:8]).decode()[:7]
    assert hash(DeviceID(text)) == hash(dev)
    assert DeviceID.is_valid(text)


_flags = st.lists(st.booleans(), min_size=56, max_size=56)


@given(
    raw=raw_ids,
    lower=_flags,
    typo=_flags,
    seps=st.lists(st.sampled_from(["", "", "-", " ", "--"]), min_size=56, max_size=56),
)
def test_random_formatting_parses(raw: bytes, lower: list[bool], typo: list[bool], seps: list[str]) -> None:
    canonical = str(DeviceID.from_bytes(raw))
    chars = []
    for i, c in enumerate(compact(canonical)):
        c = c.lower() if lower[i] else c
        c = {"O": "0", "I": "1", "B": "8"}.get(c, c) if typo[i] else c
        chars.append(c + seps[i])
    assert str(DeviceID("".join(chars))) == canonical


def _single_substitutions(dashed: str) -> list[tuple[int, str]]:
    full = compact(dashed)
    return [(pos, c) for pos in range(56) for c in _ALPHABET if c != full[pos]]


def _assert_all_substitutions_rejected(dashed: str) -> None:
    # Claim checked here: every substitution of one character by a different alphabet character,
    # data or check character, is detected. Why: weight-1 positions add v (a bijection mod 32);
    # weight-2 positions add 2v//32 + 2v%32, which is 2v for v < 16 (the even residues) and
    # 2v - 31 for v >= 16 (the odd residues), also a bijection mod 32. So changing one data
    # character always changes its block's total mod 32, and changing a check character makes it
    # differ from the (unchanged) computed one. No exceptions, so the test expects none.
    full = compact(dashed)
    original = DeviceID(dashed)
    for pos, c in _single_substitutions(dashed):
        corrupted = full[:pos] + c + full[pos + 1 :]
        try:
            DeviceID.parse(corrupted)
        except InvalidDeviceIDError as exc:
            # reported as a check failure on the block that holds the changed character
            assert f"at the end of group {2 * (pos // 14) + 2} does not match" in str(exc)
        else:
            raise AssertionError(f"substitution {c!r} at {pos} of {dashed} was accepted")
        assert original != corrupted
    assert not DeviceID.is_valid(full[:-1] + ("A" if full[-1] != "A" else "B"))


@pytest.mark.parametrize("dashed", REAL_IDS)
def test_every_single_substitution_of_real_ids_is_rejected(dashed: str) -> None:
    assert len(_single_substitutions(dashed)) == 56 * 31
    _assert_all_substitutions_rejected(dashed)


@settings(max_examples=30, deadline=None)
@given(raw=raw_ids)
def test_every_single_substitution_is_rejected(raw: bytes) -> None:
    _assert_all_substitutions_rejected(str(DeviceID.from_bytes(raw)))


@given(raw=raw_ids)
def test_typo_substitutions_are_not_corruptions(raw: bytes) -> None:
    # Writing 0/1/8 for O/I/B is normalised away, so such a "change" still gives the same ID.
    text = str(DeviceID.from_bytes(raw))
    for typo, letter in (("0", "O"), ("1", "I"), ("8", "B")):
        assert DeviceID(text.replace(letter, typo)) == text


@settings(max_examples=10, deadline=None)
@given(raw=raw_ids)
def test_legacy_form_has_no_protection(raw: bytes) -> None:
    # The truth about the 52-character form: with no check characters, a substitution is never
    # detected; it silently names another device. The only changes that keep the same ID are in the
    # last character's low 4 bits (52*5 = 260 bits carry 256; base32 decoding ignores the rest).
    old = legacy(str(DeviceID.from_bytes(raw)))
    same = 0
    for pos in range(52):
        for c in _ALPHABET:
            if c == old[pos]:
                continue
            corrupted = old[:pos] + c + old[pos + 1 :]
            if corrupted == "A" * 52:
                continue  # the all-zero ID is refused on purpose
            dev = DeviceID.parse(corrupted)
            if dev.raw == raw:
                assert pos == 51
                assert _ALPHABET.index(c) >> 4 == _ALPHABET.index(old[51]) >> 4
                same += 1
    assert same == 15  # the other 15 characters with the same top bit as the real last one
