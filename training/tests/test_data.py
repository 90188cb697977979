"""The PTP contexts end where the engine's prompts end (data.engine_context)."""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
from data import Special, TokenData, engine_batch  # noqa: E402

SP = Special({"endoftext": 0, "fim_prefix": 1, "fim_middle": 2, "fim_suffix": 3, "file_sep": 4})
SPECIAL = {0, 1, 2, 3, 4}


def make_docs(d: Path, n_docs=60):
    """Document i holds the tokens 100 + 500 i, 101 + 500 i, ...: a slice shows its document and offsets."""
    rng = np.random.default_rng(1)
    lens = rng.integers(2, 400, n_docs)
    d.mkdir(parents=True)
    np.concatenate([100 + 500 * i + np.arange(n) for i, n in enumerate(lens)]).astype(np.uint16).tofile(d / "tokens.bin")
    np.concatenate([[0], np.cumsum(lens)]).astype(np.int64).tofile(d / "docs.idx")
    (d / "docs.json").write_text(json.dumps([{"lang": "python", "pkg": "x", "path": "x.py"}] * n_docs))
    return TokenData(d)


def contiguous(a) -> bool:
    return len(a) == 0 or (np.all(np.diff(a) == 1) and (a[0] - 100) // 500 == (a[-1] - 100) // 500)


def test_contexts_end_at_a_cursor_inside_a_document_in_the_engines_layouts(tmp_path):
    data = make_docs(tmp_path / "val")
    rng = np.random.default_rng(0)
    fim = plain = 0
    for length in (16, 57, 128, 300, 464):
        for ctx in engine_batch(rng, data, SP, 64, length):
            assert len(ctx) == length
            # Anything before the document at the cursor is other documents' ends, each closed by end-of-text.
            core = ctx[np.flatnonzero(ctx == SP.eot)[-1] + 1 :] if SP.eot in ctx else ctx
            if ctx[-1] == SP.middle:
                fim += 1
                assert core[0] == SP.suffix and list(core).count(SP.prefix) == 1, ctx
                cut = list(core).index(SP.prefix)
                suffix, prefix = core[1:cut], core[cut + 1 : -1]
                assert contiguous(suffix) and contiguous(prefix)
                if len(suffix) and len(prefix):
                    assert (suffix[0] - 100) // 500 == (prefix[-1] - 100) // 500 and suffix[0] > prefix[-1]
                # As src/engine/prompt.ts cuts: a suffix cut short keeps at least a quarter of the room,
                # and the prefix loses its start only when the two fill the room.
                room, offset = length - 3, lambda t: (t - 100) % 500
                if len(suffix) and offset(suffix[-1]) + 1 < data.lengths[(suffix[-1] - 100) // 500]:
                    assert len(suffix) >= room // 4
                if len(prefix) and offset(prefix[0]) > 0:
                    assert len(suffix) + len(prefix) == room
            else:
                plain += 1
                # Never at an end-of-text, where the teacher goes on to recite a file header.
                assert ctx[-1] not in SPECIAL and contiguous(core), ctx
    assert fim > 100 and plain > 100


def test_line_fim_cuts_whole_lines_as_the_engine_prompts_after_enter():
    """The middle starts with the line break before a line's code and stops before the break ending its last line."""
    from data import line_fim_sample

    NL = 9
    sp = Special({"endoftext": 0, "fim_prefix": 1, "fim_middle": 2, "fim_suffix": 3, "file_sep": 4, "newline": NL})
    # Lines of 1-4 tokens (10+), some blank, each ended by NL.
    rng = np.random.default_rng(3)
    chunk = np.concatenate([np.concatenate([10 + rng.integers(0, 50, rng.integers(0, 5)), [NL]]) for _ in range(40)])
    seen = set()
    for _ in range(200):
        s = line_fim_sample(rng, chunk, sp, max_suffix=10_000)
        assert s is not None
        suffix_at, prefix_at, middle_at = (int(np.flatnonzero(s == t)[0]) for t in (sp.suffix, sp.prefix, sp.middle))
        suffix, prefix, middle = s[suffix_at + 1 : prefix_at], s[prefix_at + 1 : middle_at], s[middle_at + 1 : -1]
        assert s[-1] == sp.eot
        assert np.array_equal(np.concatenate([prefix, middle, suffix]), chunk), "the three parts are the chunk"
        assert middle[0] == NL and suffix[0] == NL, "the middle and the suffix each start at a line break"
        lines = np.split(middle[1:], np.flatnonzero(middle[1:] == NL))
        assert 1 <= len(lines) <= 3 and len(lines[0]) >= 2 and len(lines[-1]) >= 1, "whole lines, the first and last with code"
        seen.add(len(lines))
    assert seen == {1, 2, 3}
    # No line break token in the vocabulary, or too few lines: no line-boundary sample.
    assert line_fim_sample(rng, chunk, SP, 100) is None
    assert line_fim_sample(rng, np.array([10, 11, NL, 12]), sp, 100) is None
