import _CryptoExtras
import Crypto
import DriftlessCore
import Foundation

/// Who calls the `/v1/` API (reconcile.md, API blueprints): the administrator, who may act for
/// any tenant, or one tenant, who may act and read for itself only.
public enum Caller: Sendable, Equatable, CustomStringConvertible {
    case admin
    case tenant(String)

    /// The tenant a caller is, or nil for the administrator.
    public var tenant: String? {
        if case .tenant(let id) = self { return id }
        return nil
    }

    /// Whether this caller may act for `tenant`.
    public func mayActFor(_ tenant: String) -> Bool {
        switch self {
        case .admin: return true
        case .tenant(let own): return own.lowercased() == tenant.lowercased()
        }
    }

    public var description: String {
        switch self {
        case .admin: return "admin"
        case .tenant(let id): return "tenant \(id)"
        }
    }
}

/// Turns a bearer token into a `Caller`: the admin token (`DRIFTLESS_API_TOKEN`), a line of
/// the tokens file (`sha256(token) tenant_id`, `DRIFTLESS_API_TOKENS_FILE`), or a JWT signed
/// with `DRIFTLESS_JWT_SECRET` (HS256) or a key of `DRIFTLESS_JWKS_FILE` (RS256, ES256) whose
/// claim names the tenant. Every comparison of a secret is in constant time.
public struct APIAuthenticator: Sendable {
    public var adminToken: Secret?
    /// Hex SHA-256 of a token → its tenant.
    public var tenantTokens: [String: String]
    public var jwtSecret: Secret?
    public var keys: [VerificationKey]
    /// The claim holding the tenant id (a dotted path, `tenant_id` by default).
    public var tenantClaim: String

    /// A public key of the JWKS file.
    public struct VerificationKey: Sendable {
        public enum Material: Sendable {
            case rsa(_RSA.Signing.PublicKey)
            /// The raw x‖y of the point (the key type itself is not Sendable in this swift-crypto).
            case p256(Data)
        }
        public var id: String?
        public var material: Material
    }

    /// A file that cannot be used, with where and why.
    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(adminToken: Secret? = nil, tenantTokens: [String: String] = [:], jwtSecret: Secret? = nil,
                keys: [VerificationKey] = [], tenantClaim: String = "tenant_id") {
        self.adminToken = adminToken
        self.tenantTokens = tenantTokens
        self.jwtSecret = jwtSecret
        self.keys = keys
        self.tenantClaim = tenantClaim
    }

    /// Whether any way of authenticating is configured (else the API answers 401 to everyone).
    public var isConfigured: Bool {
        !(adminToken?.isEmpty ?? true) || !tenantTokens.isEmpty || !(jwtSecret?.isEmpty ?? true) || !keys.isEmpty
    }

    /// Reads the tokens file: one `<64 hex digits> <tenant uuid>` per line; `#` starts a comment.
    /// - Throws: `ConfigurationError` naming the line.
    public static func tenantTokens(file path: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(description: "\(path): cannot read the tokens file")
        }
        var tokens: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.isEmpty { continue }
            guard words.count == 2, words[0].count == 64, words[0].allSatisfy(\.isHexDigit), UUID(uuidString: String(words[1])) != nil else {
                throw ConfigurationError(description: "\(path):\(number + 1): expected '<sha256 of the token in hex> <tenant uuid>'")
            }
            tokens[words[0].lowercased()] = words[1].lowercased()
        }
        return tokens
    }

    /// Reads a JWKS file (`{"keys": [...]}`) of RSA and P-256 public keys.
    /// - Throws: `ConfigurationError` naming the key.
    public static func keys(jwksFile path: String) throws -> [VerificationKey] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let list = object["keys"] as? [[String: Any]] else {
            throw ConfigurationError(description: "\(path): not a JWKS document ({\"keys\": [...]})")
        }
        return try list.enumerated().map { index, key in
            let id = key["kid"] as? String
            func field(_ name: String) throws -> Data {
                guard let text = key[name] as? String, let bytes = base64URL(text) else {
                    throw ConfigurationError(description: "\(path): key \(index) has no valid '\(name)'")
                }
                return bytes
            }
            switch key["kty"] as? String {
            case "RSA":
                do { return VerificationKey(id: id, material: .rsa(try _RSA.Signing.PublicKey(n: try field("n"), e: try field("e")))) } catch let error as ConfigurationError {
                    throw error
                } catch {
                    throw ConfigurationError(description: "\(path): key \(index) is not a usable RSA key (\(error))")
                }
            case "EC" where key["crv"] as? String == "P-256":
                do { let raw = try field("x") + field("y")
                    _ = try P256.Signing.PublicKey(rawRepresentation: raw)
                    return VerificationKey(id: id, material: .p256(raw)) } catch let error as ConfigurationError {
                    throw error
                } catch {
                    throw ConfigurationError(description: "\(path): key \(index) is not a usable P-256 key")
                }
            default:
                throw ConfigurationError(description: "\(path): key \(index) is neither RSA nor EC P-256")
            }
        }
    }

    /// The caller a bearer token stands for, or nil when it stands for nobody.
    public func caller(bearer token: String, now: Date = Date()) -> Caller? {
        guard !token.isEmpty else { return nil }
        if let admin = adminToken, !admin.isEmpty, constantTimeEqual(Array(token.utf8), Array(admin.revealed.utf8)) {
            return .admin
        }
        if !tenantTokens.isEmpty {
            let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
            // Every line is compared, so the time taken does not say which prefix matched.
            var found: String?
            for (hash, tenant) in tenantTokens where constantTimeEqual(Array(hash.utf8), Array(digest.utf8)) { found = tenant }
            if let found { return .tenant(found) }
        }
        if token.split(separator: ".", omittingEmptySubsequences: false).count == 3, let tenant = verifiedTenant(jwt: token, now: now) {
            return .tenant(tenant)
        }
        return nil
    }

    /// The tenant claim of a JWT whose signature, algorithm, `exp` and `nbf` hold.
    func verifiedTenant(jwt: String, now: Date) -> String? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let headerData = Self.base64URL(parts[0]), let payloadData = Self.base64URL(parts[1]),
              let signature = Self.base64URL(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let claims = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any],
              let algorithm = header["alg"] as? String else { return nil }
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        let kid = header["kid"] as? String
        // The algorithm decides which key kind may verify it: an HS256 token is never checked
        // against a public key, nor an RS256 one against the shared secret.
        let valid: Bool
        switch algorithm {
        case "HS256":
            guard let secret = jwtSecret, !secret.isEmpty else { return nil }
            valid = HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: Data(secret.revealed.utf8)))
        case "RS256":
            valid = keys.contains { key in
                guard kid == nil || key.id == nil || key.id == kid, case .rsa(let publicKey) = key.material else { return false }
                return publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5)
            }
        case "ES256":
            valid = keys.contains { key in
                guard kid == nil || key.id == nil || key.id == kid, case .p256(let raw) = key.material,
                      let publicKey = try? P256.Signing.PublicKey(rawRepresentation: raw), let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return publicKey.isValidSignature(ecdsa, for: signed)
            }
        default:
            return nil
        }
        guard valid else { return nil }
        let seconds = now.timeIntervalSince1970
        if let expiry = claims["exp"] as? Double, seconds >= expiry { return nil }
        if let notBefore = claims["nbf"] as? Double, seconds < notBefore { return nil }
        guard claims["exp"] != nil else { return nil }
        var value: Any? = claims
        for segment in tenantClaim.split(separator: ".") { value = (value as? [String: Any])?[String(segment)] }
        guard let tenant = value as? String, UUID(uuidString: tenant) != nil else { return nil }
        return tenant.lowercased()
    }

    static func base64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
