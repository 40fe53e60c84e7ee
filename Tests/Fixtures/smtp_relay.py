"""An aiosmtpd handler for netagent's alert tests: a relay that keeps every message it takes
and can refuse some for good.

    PYTHONPATH=Tests/Fixtures /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT \
        -c smtp_relay.Relay FOLDER [REJECT_PREFIX]

Each accepted message is written raw to FOLDER/NNNN.eml and, parsed by Python's own email
package (policy=default), summarised in FOLDER/NNNN.json: decoded headers, the MIME tree,
each part's decoded text, the parser's defects, and any line that does not end in CRLF. A
message to a recipient starting with REJECT_PREFIX is refused after DATA with a 550.
"""

import email
import email.policy
import json
import os
import re


class Relay:
    def __init__(self, folder, reject_prefix=None):
        self.folder = folder
        self.reject_prefix = reject_prefix
        os.makedirs(folder, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if not 1 <= len(args) <= 2:
            parser.error("usage: smtp_relay.Relay FOLDER [REJECT_PREFIX]")
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        if self.reject_prefix and any(r.startswith(self.reject_prefix) for r in envelope.rcpt_tos):
            return "550 5.7.1 mailbox refuses alert mail"
        data = envelope.original_content or envelope.content
        count = len([n for n in os.listdir(self.folder) if n.endswith(".json")])
        base = os.path.join(self.folder, "%04d" % (count + 1))
        with open(base + ".eml", "wb") as f:
            f.write(data)
        message = email.message_from_bytes(data, policy=email.policy.default)
        parts = []
        defects = [str(d) for d in message.defects]
        for part in message.walk():
            defects += [str(d) for d in part.defects]
            if not part.is_multipart():
                parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                              "content": part.get_content()})
        summary = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "messageID": str(message["message-id"]),
            "inReplyTo": str(message["in-reply-to"]) if message["in-reply-to"] else None,
            "references": str(message["references"]) if message["references"] else None,
            "date": message["date"].datetime.isoformat() if message["date"] and message["date"].datetime else None,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "contentType": message.get_content_type(),
            "parts": parts,
            "defects": defects,
            "bareLineEnds": len(re.findall(rb"(?<!\r)\n", data)),
            "longestLine": max((len(line) for line in data.split(b"\r\n")), default=0),
            "nonASCII": any(b > 127 for b in data),
        }
        with open(base + ".tmp", "w") as f:
            json.dump(summary, f)
        os.rename(base + ".tmp", base + ".json")
        return "250 2.0.0 OK queued as %04d" % (count + 1)
