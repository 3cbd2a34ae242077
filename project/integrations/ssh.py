"""Files on a remote host read through PyFilesystem URLs: `ssh://user@host:port` (SFTP, via
fs.sshfs and paramiko) in production, `osfs://folder` in the demo."""

import fs
import fs.errors


def read_text(fs_url: str, path: str) -> str:
    """The whole file as text; empty when it does not exist (yet). Connection and authentication
    failures propagate as they are (fs, paramiko and socket errors)."""
    with fs.open_fs(fs_url) as remote:
        try:
            return remote.readtext(path, encoding="utf-8", errors="replace")
        except fs.errors.ResourceNotFound:
            return ""
