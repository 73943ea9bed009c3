"""Recordings: uint8 frames in, an animated GIF (imageio) or an MP4 (imageio-ffmpeg) out.

The GUI grabs each frame (with the step and accuracy already painted on) and hands over a
``(H, W, 3)`` uint8 array it no longer touches. :func:`encode_stream` runs on a job thread and
encodes the frames as they arrive, so a long recording never holds more than a few frames in memory;
:func:`encode_frames` does the same for a list. The file is written under a temporary name and renamed
when complete: a cancel or a failure leaves nothing behind.

MP4 needs the optional extra ``pip install 'digitviz[video]'`` (imageio-ffmpeg ships its own ffmpeg);
:func:`missing_for` says so in one line.

Imports: NumPy, the standard library and (when encoding) imageio; never Qt.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("gif", "mp4")
GIF_MAX_WIDTH = 640
"""GIFs wider than this are halved (then halved again...): a 256-colour GIF of a full window is large and
slow to quantise; the MP4 keeps full resolution."""


class RecordError(Exception):
    """A recording cannot be written; the message is one line."""


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class RecordResult:
    path: Path
    frames: int
    seconds: float  # encoding wall time


def format_of(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise RecordError(f"{Path(path).name}: record to .gif or .mp4, not {suffix or 'no extension'}")
    return suffix


def missing_for(fmt: str) -> str | None:
    """None if ``fmt`` can be written here, else one line saying what to install."""
    try:
        import imageio  # noqa: F401
        import PIL  # noqa: F401
    except ImportError:
        return "recording needs imageio: pip install imageio"
    if fmt == "mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            return "MP4 needs imageio-ffmpeg: pip install 'digitviz[video]' (or record a GIF)"
    return None


def _even(frame: np.ndarray) -> np.ndarray:
    """Crop to even height and width (H.264 in yuv420p needs them)."""
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def _gif_shrink(frame: np.ndarray) -> np.ndarray:
    while frame.shape[1] > GIF_MAX_WIDTH:
        h, w = frame.shape[:2]
        f = frame[: h - h % 2, : w - w % 2].astype(np.uint16)
        frame = ((f[0::2, 0::2] + f[1::2, 0::2] + f[0::2, 1::2] + f[1::2, 1::2] + 2) >> 2).astype(np.uint8)
    return frame


class _Writer:
    """One open recording: ``add(frame)`` then ``finish()`` (renames into place) or ``abort()``."""

    def __init__(self, path: str | os.PathLike, fps: float) -> None:
        self.path = Path(path).expanduser()
        self.fmt = format_of(self.path)
        why = missing_for(self.fmt)
        if why:
            raise RecordError(why)
        if not fps > 0:
            raise RecordError(f"frames per second must be positive, got {fps}")
        self.fps = float(fps)
        self.tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.part.{self.fmt}")
        self.shape: tuple | None = None
        self.frames = 0
        self._w: Any = None

    def _open(self) -> None:
        try:
            if self.fmt == "mp4":
                import imageio.v2 as iio

                # yuv420p plays everywhere; quality 7 of 10 keeps the thin edges of the diagram readable
                self._w = iio.get_writer(
                    self.tmp,
                    format="FFMPEG",
                    mode="I",
                    fps=self.fps,
                    codec="libx264",
                    quality=7,
                    pixelformat="yuv420p",
                    macro_block_size=1,
                    ffmpeg_log_level="error",
                    output_params=["-preset", "veryfast"],
                )
            else:
                self._w = _GifWriter(self.tmp, self.fps)
        except OSError as e:
            raise RecordError(f"cannot write {self.path}: {e.strerror or e}") from None

    def add(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
            raise RecordError(f"a frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        frame = _even(frame[..., :3])
        if self.fmt == "gif":
            frame = _gif_shrink(frame)
        if self.shape is None:
            self.shape = frame.shape
            self._open()
        elif frame.shape != self.shape:  # the window was resized: keep the first size (pad or crop)
            out = np.zeros(self.shape, np.uint8)
            h, w = min(self.shape[0], frame.shape[0]), min(self.shape[1], frame.shape[1])
            out[:h, :w] = frame[:h, :w]
            frame = out
        try:
            self._w.append_data(np.ascontiguousarray(frame))
        except OSError as e:
            raise RecordError(f"writing {self.path.name} failed: {e}") from None
        self.frames += 1

    def finish(self, cancel: Callable[[], bool] | None = None) -> Path:
        if self._w is None:
            raise RecordError("nothing was recorded (no frames)")
        try:
            self._w.close()
            if cancel is not None and cancel():  # cancelled while the last frames were written
                raise Cancelled
            os.replace(self.tmp, self.path)
        except OSError as e:
            self.abort()
            raise RecordError(f"cannot write {self.path}: {e.strerror or e}") from None
        return self.path

    def abort(self) -> None:
        if self._w is not None:
            with contextlib.suppress(Exception):
                self._w.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


class _GifWriter:
    """GIF frames quantised one by one with Pillow's fast octree (about 3 ms for 640x400), kept as
    8-bit palette images (256 kB each) and written at close. imageio's GIF writer quantises each frame by
    median cut: about 150 ms a frame, 70 s for a 30-second recording."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.images: list = []
        path.touch()  # fail early on an unwritable folder

    def append_data(self, frame: np.ndarray) -> None:
        from PIL import Image

        self.images.append(Image.fromarray(frame, "RGB").quantize(256, method=Image.Quantize.FASTOCTREE))

    def close(self) -> None:
        images, self.images = self.images, []
        if images:
            images[0].save(
                self.path,
                format="GIF",
                save_all=True,
                append_images=images[1:],
                duration=round(1000 / self.fps),
                loop=0,
                optimize=False,
                disposal=1,
            )


END = None
"""Put on the queue of :func:`encode_stream` to end the recording."""


def encode_stream(
    control: Callable[[], bool], frames: queue.Queue, path: str | os.PathLike, fps: float
) -> Generator[int, None, RecordResult]:
    """Encode frames from ``frames`` until :data:`END` arrives; a generator for :mod:`digitviz.gui.jobs`.

    Yields the number of frames written so far (progress); returns a :class:`RecordResult`.
    ``control()`` turning True (cancel) removes the partial file and raises :class:`Cancelled`.
    """
    writer = _Writer(path, fps)
    t0 = time.perf_counter()
    try:
        while True:
            if control():
                raise Cancelled
            try:
                frame = frames.get(timeout=0.05)
            except queue.Empty:
                continue
            if frame is END:
                break
            writer.add(frame)
            yield writer.frames
        out = writer.finish(control)
    except BaseException:
        writer.abort()
        raise
    return RecordResult(out, writer.frames, time.perf_counter() - t0)


def encode_frames(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike,
    fps: float,
    progress: Callable[[int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RecordResult:
    """Encode an iterable of uint8 ``(H, W, 3)`` frames into ``path`` (.gif or .mp4)."""
    writer = _Writer(path, fps)
    t0 = time.perf_counter()
    try:
        for frame in frames:
            if cancel is not None and cancel():
                raise Cancelled
            writer.add(frame)
            if progress is not None:
                progress(writer.frames)
        out = writer.finish(cancel)
    except BaseException:
        writer.abort()
        raise
    return RecordResult(out, writer.frames, time.perf_counter() - t0)
