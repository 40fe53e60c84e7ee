"""An aiosmtpd handler for the fault matrix: a relay whose answer to DATA is switched at run
time, that keeps every message it takes and logs every one it refuses.

    PYTHONPATH=Tests/Fixtures /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c fault_relay.Relay FOLDER

FOLDER/mode holds how the next DATA is answered: `accept` (or no file) 250, `tempfail` 451,
`reject` 550, `slow` 250 three seconds after the message is stored (a relay slow to answer).
Each accepted message is summarised in FOLDER/NNNN.json by Python's email
package (Message-ID, subject, the X-Netagent-Group header, the decoded text part); each refusal
appends its Message-ID and code to FOLDER/refused.log.
"""

import asyncio
import email
import email.policy
import json
import os


class Relay:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("usage: fault_relay.Relay FOLDER")
        return cls(*args)

    def mode(self):
        try:
            with open(os.path.join(self.folder, "mode")) as f:
                return f.read().strip()
        except FileNotFoundError:
            return "accept"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        message = email.message_from_bytes(data, policy=email.policy.default)
        message_id = str(message["message-id"])
        mode = self.mode()
        if mode in ("tempfail", "reject"):
            code = "451 4.3.0 try again later" if mode == "tempfail" else "550 5.7.1 mailbox refuses alert mail"
            with open(os.path.join(self.folder, "refused.log"), "a") as f:
                f.write("%s %s\n" % (message_id, code[:3]))
            return code
        text = ""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_content()
        count = len([n for n in os.listdir(self.folder) if n.endswith(".json")])
        base = os.path.join(self.folder, "%04d" % (count + 1))
        summary = {"messageID": message_id, "subject": str(message["subject"]),
                   "group": str(message["x-netagent-group"]), "text": text}
        with open(base + ".tmp", "w") as f:
            json.dump(summary, f)
        os.rename(base + ".tmp", base + ".json")
        if mode == "slow":
            await asyncio.sleep(3)
        return "250 2.0.0 OK queued as %04d" % (count + 1)
