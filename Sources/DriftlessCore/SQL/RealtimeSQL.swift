/// Realtime statements (docs/blueprints.md, Realtime): the publication is always
/// `supabase_realtime`, created empty and given tables one by one, never `FOR ALL TABLES`.
extension SQLRenderer {
    public static func createRealtimePublication() -> SQL {
        "CREATE PUBLICATION supabase_realtime"
    }

    public static func publish(_ table: QualifiedName, _ member: Bool) -> SQL {
        "ALTER PUBLICATION supabase_realtime \(keyword: member ? "ADD" : "DROP") TABLE \(table)"
    }

    public static func setReplicaIdentity(_ identity: ReplicaIdentity, of table: QualifiedName) -> SQL {
        switch identity {
        case .default: return "ALTER TABLE \(table) REPLICA IDENTITY DEFAULT"
        case .full: return "ALTER TABLE \(table) REPLICA IDENTITY FULL"
        case .nothing: return "ALTER TABLE \(table) REPLICA IDENTITY NOTHING"
        case .index(let index): return "ALTER TABLE \(table) REPLICA IDENTITY USING INDEX \(ident: index)"
        }
    }
}
