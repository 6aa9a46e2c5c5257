/// The Python half of `TokenMinter`: PyJWT and `cryptography`, an implementation independent of
/// ours, make the keys, the tokens (PyJWT's `jwt.encode`, or by hand for the forgeries PyJWT will
/// not make) and a CA with a loopback server certificate.
let tokenMinterScript = #"""
    import base64, datetime, hashlib, hmac, ipaddress, json, os, secrets, subprocess, sys
    try:
        import jwt, cryptography
    except ImportError:
        # `swift test` sets up what it needs on a fresh machine, as .ci/run does.
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pyjwt", "cryptography"], check=False)
        try:
            import jwt, cryptography
        except ImportError:
            sys.exit("PyJWT or cryptography is missing and pip could not install them: pip install pyjwt cryptography")
    from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
    from cryptography import x509
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519, padding
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    out_dir, spec = sys.argv[1], json.loads(sys.argv[2])

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    keys = {
        "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "ec-1": ec.generate_private_key(ec.SECP256R1()),
        "ec-384": ec.generate_private_key(ec.SECP384R1()),
        "ed-1": ed25519.Ed25519PrivateKey.generate(),
    }
    hs_secret = secrets.token_urlsafe(32)

    def public_jwk(kid):
        public = keys[kid].public_key()
        if kid.startswith("rsa"):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif kid.startswith("ec"):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        jwk.update({"kid": kid, "use": "sig"})
        return jwk

    def pem(kid):
        return keys[kid].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def signature(alg, kid, data, der=False):
        if alg == "HS256":
            return hmac.new(hs_secret.encode(), data, hashlib.sha256).digest()
        key = keys[kid]
        if alg == "RS256":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if alg == "PS256":
            return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        if alg == "ES256":
            raw = key.sign(data, ec.ECDSA(hashes.SHA256()))
            if der:
                return raw
            r, s = decode_dss_signature(raw)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)

    def by_hand(header, claims, sign):
        head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        return head + "." + b64(sign(head.encode()))

    def mint(item):
        alg, kid, claims, mode = item["alg"], item.get("kid"), item["claims"], item.get("mode", "pyjwt")
        header = dict(item.get("header", {}))
        if kid is not None and "kid" not in header:
            header["kid"] = kid
        signing_kid = item.get("signingKey", kid)
        if mode == "pyjwt":
            key = hs_secret if alg == "HS256" else keys[signing_kid]
            return jwt.encode(claims, key, algorithm=alg, headers=header)
        header = {"alg": alg, "typ": "JWT", **header}
        if mode == "byHand":
            return by_hand(header, claims, lambda data: signature(alg, signing_kid, data))
        if mode == "none":
            return by_hand({"alg": "none", "typ": "JWT"}, claims, lambda data: b"")
        if mode == "derSignature":
            return by_hand(header, claims, lambda data: signature("ES256", signing_kid, data, der=True))
        if mode == "hmacWithPublicPEM":
            return by_hand(header, claims, lambda data: hmac.new(pem(signing_kid), data, hashlib.sha256).digest())
        if mode == "hmacWithPublicJWK":
            secret = json.dumps(public_jwk(signing_kid)).encode()
            return by_hand(header, claims, lambda data: hmac.new(secret, data, hashlib.sha256).digest())
        if mode == "tamperedPayload":
            token = jwt.encode(claims, keys[signing_kid], algorithm=alg, headers=header)
            head, _, sig = token.split(".")
            forged = dict(claims, sub="someone-else")
            return head + "." + b64(json.dumps(forged).encode()) + "." + sig
        if mode == "tamperedSignature":
            token = jwt.encode(claims, keys[signing_kid], algorithm=alg, headers=header)
            head, body, sig = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
            raw[len(raw) // 2] ^= 0x01
            return head + "." + body + "." + b64(bytes(raw))
        raise SystemExit("unknown mode " + mode)

    def certificates():
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "JWKS Test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        files = {
            "ca.pem": ca.public_bytes(serialization.Encoding.PEM),
            "server.pem": leaf.public_bytes(serialization.Encoding.PEM),
            "server.key": leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        }
        for name, data in files.items():
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(data)

    certificates()
    result = {
        "publicKeys": {kid: public_jwk(kid) for kid in keys},
        "hs256Secret": hs_secret,
        "tokens": {item["name"]: mint(item) for item in spec["tokens"]},
    }
    with open(os.path.join(out_dir, "minted.json"), "w") as f:
        json.dump(result, f)
    """#
