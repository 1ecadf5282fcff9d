"""Splitting a markdown document into overlapping chunks that each carry their section heading."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    index: int
    section: str
    text: str


def sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs in document order; text before the first heading has heading ''."""
    result: list[tuple[str, list[str]]] = [("", [])]
    for line in body.splitlines():
        match = HEADING.match(line)
        if match:
            result.append((match.group(1), []))
        else:
            result[-1][1].append(line)
    return [(heading, "\n".join(lines).strip()) for heading, lines in result if "\n".join(lines).strip()]


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, and sentences or words of paragraphs longer than ``limit``."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                pieces.append(sentence[:cut])
                sentence = sentence[cut:].lstrip()
            pieces.append(sentence)
    return [piece for piece in pieces if piece]


def _tail(text: str, size: int) -> str:
    """The last ``size`` characters of ``text``, starting at a word boundary."""
    if size <= 0 or len(text) <= size:
        return text if size > 0 else ""
    start = text.find(" ", len(text) - size)
    return text[start + 1 :] if start >= 0 else text[-size:]


def chunk_document(title: str, body: str, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """Chunks of at most about ``max_chars`` characters of body text, never spanning two sections;
    consecutive chunks of a section share ``overlap_chars`` characters so that a fact cut at a
    boundary is whole in one of them. Each chunk starts with ``title > section`` for retrieval."""
    chunks: list[Chunk] = []
    for heading, text in sections(body):
        label = f"{title} > {heading}" if heading else title
        current = ""
        for piece in _pieces(text, max_chars - overlap_chars):
            if current and len(current) + 2 + len(piece) > max_chars:
                chunks.append(Chunk(len(chunks), heading, f"{label}\n{current}"))
                current = _tail(current, overlap_chars)
            current = f"{current}\n\n{piece}" if current else piece
        if current:
            chunks.append(Chunk(len(chunks), heading, f"{label}\n{current}"))
    return chunks
