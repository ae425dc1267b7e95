"""The history's packed values: written in format 2, format 1 read for ever, damage refused."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading

import pytest

from cuepoint_tray.store.packing import pack_texts, pack_value, unpack_value, value_text

# A track's packed candidates as CuePoint wrote them before format 2 (deflate, format 1),
# bytes copied from a history it wrote: histories on DJs' disks hold thousands of these.
FORMAT_1 = bytes.fromhex(
    "018b36d6414842240e2f4f54284b54071b05762ad899168e4ab14011a0fa3ca0f76161128d16a9b13a06"
    "4035067a96a68646c000039901b211a2c5c2116425d420a5c3ed890a6189c0e044ce5720130f37e58242d"
    "925b302e85da0ca581d432390870dc08ed051c25e7828412df1cccb4b2d2acb048515284d416c51700d00"
    "b28d0c8c4c740d4c750d0c95744c8c0c0d0c8026ba3b7907f818991818181a19832cc7958a816e06baba5"
    "a2937b1243943c90a64576d2c00")
VALUE = [3, [["title", 3.0, "'ça va'"], ["key", 0.5, "8A"]],
         [[3, None, "isrc", ["another title"], 0, [[0.9512, "t"], [1.0, None, "8A vs 8A"]],
           ["Ça Va", "Extended Mix", ["Âme", "Dixon"], [], 122.0, 0, "8A",
            "Melodic House & Techno", None, "Innervisions", "Ça Va EP", "2024-05-01", 421000,
            "GBKPL2400123", ["https://www.beatport.com"]]]],
         {"match": None}]


def test_a_value_an_earlier_cuepoint_packed_in_format_1_reads_back_exactly() -> None:
    assert FORMAT_1[0] == 1
    assert unpack_value(FORMAT_1) == VALUE


def test_values_are_written_in_format_2_and_read_back_exactly() -> None:
    packed = pack_value(VALUE)
    assert packed[0] == 2
    assert unpack_value(packed) == VALUE
    assert len(packed) < len(FORMAT_1) * 1.2  # about as small as format 1


MANY = [VALUE, [1, [], []], {"ça": ["va", 1.5, None]}, [2 ** 70, "an integer orjson refuses"]]


def test_values_packed_together_are_the_bytes_packed_one_by_one() -> None:
    packed = pack_texts([value_text(value) for value in MANY])
    assert packed == [pack_value(value) for value in MANY]
    assert [unpack_value(value) for value in packed] == MANY
    assert pack_texts([]) == []


@pytest.mark.skipif(importlib.util.find_spec("cffi") is None,
                    reason="zstandard's CFFI backend needs the cffi package, not installed")
def test_without_zstandards_batch_call_values_are_packed_one_by_one() -> None:
    # Zstandard's CFFI backend (the one PyPy gets) has no batch call: the same bytes still.
    script = ("import sys, zstandard\n"
              "from cuepoint_tray.store.packing import pack_texts, pack_value, value_text\n"
              "values = [[n, 'Ça Va' * n] for n in range(5)]\n"
              "assert zstandard.backend == 'cffi', zstandard.backend\n"
              "packed = pack_texts([value_text(v) for v in values])\n"
              "sys.stdout.write(repr(packed == [pack_value(v) for v in values]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHON_ZSTANDARD_IMPORT_POLICY": "cffi"},
                          timeout=60)
    assert done.stdout == "True", done.stderr


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@pytest.mark.parametrize("packed", [
    pack_value(VALUE)[:30],  # cut short
    b"\x02" + bytes(60),  # zeroed
    b"\x02" + _ZSTD_MAGIC + b"\xe0" + (1 << 40).to_bytes(8, "little") + bytes(20),  # 1 TB
    FORMAT_1[:60],
    b"\x01" + bytes(60),
    b"\x09" + FORMAT_1[1:],  # a format that does not exist
    b"",
], ids=["cut", "zeroed", "a terabyte said", "format 1 cut", "format 1 zeroed", "format 9",
        "empty"])
def test_a_damaged_value_is_refused_as_damaged(packed: bytes) -> None:
    with pytest.raises(ValueError, match="damaged|unknown packed value format"):
        unpack_value(packed)


def test_threads_pack_and_unpack_at_once_without_mixing_values() -> None:
    values = [[n, "Ça Va" * (n % 7), [n / 3, None, ["Âme"] * (n % 5)]] for n in range(300)]
    wrong: list[object] = []

    def work(offset: int) -> None:
        for value in values[offset:] + values[:offset]:
            if unpack_value(pack_value(value)) != value:
                wrong.append(value)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 75, 150, 225)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
