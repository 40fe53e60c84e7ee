"""An SMTP relay that demands STARTTLS and then AUTH, for netagent's secret-leak tests.

    /usr/bin/python3 Tests/Fixtures/smtp_auth_relay.py HOST PORT CERT KEY PASSWORD FOLDER

Offers STARTTLS with CERT/KEY and refuses every command but EHLO, STARTTLS and QUIT before
it; then takes AUTH (PLAIN or LOGIN) and accepts only PASSWORD (any user name), answering 535
otherwise. Each AUTH attempt appends "MECHANISM ok|refused" to FOLDER/auth.log; each message
taken is written raw to FOLDER/NNNN.eml. With CERT and KEY `-` it offers no STARTTLS and takes
AUTH in clear text: the relay a man in the middle plays by stripping STARTTLS.
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Keep:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        count = len([n for n in os.listdir(self.folder) if n.endswith(".eml")])
        with open(os.path.join(self.folder, "%04d.eml" % (count + 1)), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 OK"


def main():
    host, port, cert, key, password, folder = sys.argv[1:7]
    os.makedirs(folder, exist_ok=True)
    context = None
    if cert != "-":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
        with open(os.path.join(folder, "auth.log"), "a") as f:
            f.write("%s %s\n" % (mechanism, "ok" if ok else "refused"))
        return AuthResult(success=ok, handled=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    tls = context is not None
    factory = lambda: SMTP(Keep(folder), tls_context=context, require_starttls=tls, auth_required=True,
                           auth_require_tls=tls, authenticator=authenticator, loop=loop)
    loop.run_until_complete(loop.create_server(factory, host=host, port=int(port)))
    loop.run_forever()


if __name__ == "__main__":
    main()
