"""Test helpers for downloads: a local HTTP mirror that serves a folder on 127.0.0.1 the way Google Drive serves files (byte ranges,
and, on request, a connection closed half-way through a file), and the files the official code publishes for an entry, with random
weights. Used by the pretrained chapter's tests and tests/test_pretrained.py; nothing here downloads anything."""
import contextlib, functools, http.server, json, re, threading
from pathlib import Path
import torch

class RangeHandler(http.server.SimpleHTTPRequestHandler):
    "Serves a folder with Range support; files named in `cut` are cut off half-way (once each)."
    cut: set = set()
    def log_message(self, *a): pass
    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file(): self.send_error(404); return
        data = path.read_bytes(); start = 0
        rng = re.match(r'bytes=(\d+)-', self.headers.get('Range', ''))
        if rng:
            start = int(rng.group(1))
            self.send_response(206); self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
        else: self.send_response(200)
        self.send_header('Content-Length', str(len(data) - start)); self.send_header('Accept-Ranges', 'bytes'); self.end_headers()
        try:
            if path.name in self.cut:
                self.cut.discard(path.name); self.wfile.write(data[start:start + (len(data) - start) // 2]); self.wfile.flush()
                self.close_connection = True; return
            self.wfile.write(data[start:])
        except (ConnectionResetError, BrokenPipeError): self.close_connection = True   # the client hung up (gdown re-requests with a range)

@contextlib.contextmanager
def local_mirror(folder, cut=(), port: int = 0):
    "Serve `folder` on http://127.0.0.1:`port` (0: a free port) while the block runs; yields the base URL. Files named in `cut` are cut off half-way once."
    handler = type('_Handler', (RangeHandler,), {'cut': set(cut)})
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), functools.partial(handler, directory=str(folder)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close()

def official_files(folder, entry, seed: int = 0):
    "Write what the official code publishes for `entry` (a `mlpscale.pretrained.PretrainedEntry`), with random weights: `<file>_weights` (torch.save of the state dict) and the pre-training config. Returns the model."
    from mlpscale.models import create_model
    torch.manual_seed(seed)
    m = create_model(entry.architecture, num_classes=entry.num_classes, resolution=entry.resolution)
    torch.save(m.state_dict(), Path(folder)/f'{entry.file}_weights')
    Path(folder, f'{entry.file}_config').write_text(json.dumps({'dataset': 'imagenet21', 'model': 'BottleneckMLP', 'architecture': entry.architecture,
        'resolution': 64, 'crop_resolution': 64, 'normalization': 'layer', 'num_classes': 11230, 'batch_size': 16384, 'optimizer': 'lion'}))
    return m
