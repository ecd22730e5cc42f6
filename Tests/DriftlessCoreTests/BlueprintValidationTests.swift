import DriftlessCore
import Foundation
import Testing

/// One invalid blueprint set and the diagnostic it must produce.
struct InvalidCase: CustomTestStringConvertible, Sendable {
    var name: String
    var files: [String: String]
    var code: String
    var path: String
    var line: Int?
    var file = "a.yaml"
    var messageContains: String?
    var testDescription: String { name }
}

private let head = "version: 1\ntenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\n"
/// A document whose line 3 is `tables:` and line 4 the table's name; `body` starts at line 5.
private func table(_ name: String = "t", _ body: String) -> String {
    head + "tables:\n  - name: \(name)\n" + body
}
private let idColumn = "    columns:\n      - {name: id, type: uuid, primary_key: true}\n"  // lines 5-6

private func invalid(
    _ name: String, _ text: String, _ code: String, _ path: String, line: Int?, contains: String? = nil
) -> InvalidCase {
    InvalidCase(name: name, files: ["a.yaml": text], code: code, path: path, line: line, messageContains: contains)
}

let invalidCases: [InvalidCase] = [
    // Document level.
    invalid("version 2", "version: 2\ntenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\n", "unsupported_version", "$.version", line: 1),
    invalid("version as a string", "version: \"1\"\ntenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\n", "bad_value", "$.version", line: 1),
    invalid("version missing", "tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\n", "missing_field", "$.version", line: 1),
    invalid("tenant_id missing", "version: 1\n", "missing_field", "$.tenant_id", line: 1),
    invalid("tenant_id not a uuid", "version: 1\ntenant_id: acme-corp\n", "invalid_uuid", "$.tenant_id", line: 2),
    invalid("schema with an empty name", head + "schema: \"\"\n", "invalid_name", "$.schema", line: 3),
    invalid("schema owned by Supabase", head + "schema: auth\n", "reserved_schema", "$.schema", line: 3),
    invalid("unknown top-level field", head + "tabels: []\n", "unknown_field", "$.tabels", line: 3, contains: "did you mean 'tables'"),
    invalid("API-only key in a file", head + "trigger_id: abc\n", "api_only_field", "$.trigger_id", line: 3),
    invalid("document is a list", "- version: 1\n", "bad_value", "$", line: 1),
    invalid("empty document", "", "empty_document", "$", line: nil),

    // Names.
    invalid("table name with a newline", table("\"a\\nb\"", idColumn), "invalid_name", "$.tables[0].name", line: 4, contains: "U+000A"),
    invalid("table name 64 bytes", table(String(repeating: "a", count: 64), idColumn), "name_too_long", "$.tables[0].name", line: 4),
    invalid("table name with a zero-width space", table("\"a\u{200B}b\"", idColumn), "invalid_name", "$.tables[0].name", line: 4, contains: "U+200B"),
    invalid("column name with a right-to-left override", table("t", "    columns:\n      - {name: \"ab\u{202E}c\", type: date}\n"), "invalid_name", "$.tables[0].columns[0].name", line: 6, contains: "U+202E"),
    invalid("column name with a confusable Cyrillic a", table("t", "    columns:\n      - {name: n\u{0430}me, type: text}\n"), "invalid_name", "$.tables[0].columns[0].name", line: 6, contains: "U+0430"),
    invalid("policy name with a Greek omicron in a sentence", table("t", idColumn + "    rls:\n      policies:\n        - {name: \"Users can read their \u{03BF}wn rows.\", command: select, using: 'true'}\n"), "invalid_name", "$.tables[0].rls.policies[0].name", line: 9, contains: "U+03BF"),
    invalid("enum label 64 bytes", head + "enums:\n  - name: e\n    values: [\(String(repeating: "x", count: 64))]\n", "name_too_long", "$.enums[0].values[0]", line: 5),
    invalid("generated unique name too long", table(String(repeating: "t", count: 55), "    columns:\n      - {name: reference, type: text, unique: true}\n"), "generated_name_too_long", "$.tables[0].columns[0].unique", line: 6),

    // Duplicates.
    invalid("duplicate column", table("t", "    columns:\n      - {name: a, type: text}\n      - {name: a, type: int}\n"), "duplicate_column", "$.tables[0].columns[1].name", line: 7),
    invalid("duplicate table in one file", head + "tables:\n  - name: t\n    columns: [{name: a, type: text}]\n  - name: t\n    columns: [{name: a, type: text}]\n", "duplicate_table", "$.tables[1].name", line: 6),
    InvalidCase(
        name: "duplicate table across files names both",
        files: ["a.yaml": table("t", idColumn), "b.yaml": table("t", idColumn)],
        code: "duplicate_table", path: "$.tables[0].name", line: 4, file: "b.yaml", messageContains: "a.yaml:4"),
    InvalidCase(
        name: "duplicate enum across files",
        files: ["a.yaml": head + "enums:\n  - {name: mood, values: [ok]}\n", "b.yaml": head + "enums:\n  - {name: mood, values: [ok]}\n"],
        code: "duplicate_enum", path: "$.enums[0].name", line: 4, file: "b.yaml", messageContains: "a.yaml"),
    invalid("duplicate enum value", head + "enums:\n  - name: e\n    values: [a, b, a]\n", "duplicate_enum_value", "$.enums[0].values[2]", line: 5),
    invalid("duplicate key in a mapping", head + "tables:\n  - name: t\n    name: u\n", "duplicate_key", "$", line: 4),
    invalid("index named like the table", table("t", idColumn + "    indexes:\n      - {columns: [id], name: t}\n"), "duplicate_name", "$.tables[0].indexes[0]", line: 8),
    invalid("explicit policy clashing with a generated tenant policy",
            table("t", "    columns:\n      - {name: tenant_id, type: uuid}\n    rls:\n      policies:\n        - {name: t_tenant_select, command: select, using: 'true'}\n"),
            "duplicate_policy", "$.tables[0].rls.policies[0].name", line: 9),

    // Columns and types.
    invalid("unknown column field with a suggestion", table("t", "    columns:\n      - name: a\n        type: text\n        nulable: false\n"), "unknown_field", "$.tables[0].columns[0].nulable", line: 8, contains: "did you mean 'nullable'"),
    invalid("nullable not a boolean", table("t", "    columns:\n      - {name: a, type: text, nullable: maybe}\n"), "bad_value", "$.tables[0].columns[0].nullable", line: 6),
    invalid("columns as a mapping", table("t", "    columns:\n      a: text\n"), "bad_value", "$.tables[0].columns", line: 6),
    invalid("column without a type", table("t", "    columns:\n      - name: a\n"), "missing_field", "$.tables[0].columns[0].type", line: 6),
    invalid("type with a statement terminator", table("t", "    columns:\n      - {name: a, type: 'text; drop table users'}\n"), "invalid_fragment", "$.tables[0].columns[0].type", line: 6),
    invalid("serial type", table("t", "    columns:\n      - {name: a, type: serial}\n"), "bad_type", "$.tables[0].columns[0].type", line: 6, contains: "identity"),
    invalid("qualified enum that does not exist", table("t", "    columns:\n      - {name: a, type: public.mood}\n"), "unknown_enum", "$.tables[0].columns[0].type", line: 6),
    invalid("identity on text", table("t", "    columns:\n      - {name: a, type: text, identity: always}\n"), "bad_identity", "$.tables[0].columns[0].identity", line: 6),
    invalid("identity with a default", table("t", "    columns:\n      - {name: a, type: bigint, identity: always, default: '1'}\n"), "identity_with_default", "$.tables[0].columns[0].default", line: 6),
    invalid("generated with a default", table("t", "    columns:\n      - {name: a, type: int, generated: '1', default: '1'}\n"), "generated_with_default", "$.tables[0].columns[0].default", line: 6),
    invalid("generated identity", table("t", "    columns:\n      - {name: a, type: bigint, identity: always, generated: '1'}\n"), "generated_with_identity", "$.tables[0].columns[0].identity", line: 6),
    invalid("generated expression closing its parenthesis", table("t", "    columns:\n      - {name: a, type: int, generated: '1) STORED, b int GENERATED ALWAYS AS (2'}\n"), "invalid_fragment", "$.tables[0].columns[0].generated", line: 6),
    invalid("using that is not one expression", table("t", "    columns:\n      - {name: a, type: int, using: 'a::int; drop table t'}\n"), "invalid_fragment", "$.tables[0].columns[0].using", line: 6),
    invalid("identity kind misspelt", table("t", "    columns:\n      - {name: a, type: bigint, identity: allways}\n"), "invalid_value", "$.tables[0].columns[0].identity", line: 6, contains: "did you mean 'always'"),
    invalid("nullable primary key", table("t", "    columns:\n      - {name: id, type: uuid, primary_key: true, nullable: true}\n"), "nullable_primary_key", "$.tables[0].columns[0].nullable", line: 6),
    invalid("renamed_from naming itself", table("t", "    columns:\n      - {name: a, type: text, renamed_from: a}\n"), "invalid_rename", "$.tables[0].columns[0].renamed_from", line: 6),

    // Keys, constraints, indexes.
    invalid("primary key in both forms", table("t", idColumn + "    primary_key: [id]\n"), "primary_key_conflict", "$.tables[0].primary_key", line: 7),
    invalid("primary key on a missing column", table("t", "    columns:\n      - {name: a, type: text}\n    primary_key: [b]\n"), "unknown_column", "$.tables[0].primary_key[0]", line: 7),
    invalid("unique on a missing column", table("t", idColumn + "    unique:\n      - columns: [id, code]\n"), "unknown_column", "$.tables[0].unique[0].columns[1]", line: 8),
    invalid("index on a missing column", table("t", idColumn + "    indexes:\n      - columns: [created_at]\n"), "unknown_column", "$.tables[0].indexes[0].columns[0]", line: 8),
    invalid("index with columns and expression", table("t", idColumn + "    indexes:\n      - {columns: [id], expression: lower(id::text)}\n"), "index_definition", "$.tables[0].indexes[0]", line: 8),
    invalid("index with neither", table("t", idColumn + "    indexes:\n      - {unique: true}\n"), "index_definition", "$.tables[0].indexes[0]", line: 8),
    invalid("index method misspelt", table("t", idColumn + "    indexes:\n      - {columns: [id], using: btre}\n"), "invalid_value", "$.tables[0].indexes[0].using", line: 8, contains: "did you mean 'btree'"),
    invalid("foreign key to an undefined table", table("t", idColumn + "    foreign_keys:\n      - columns: [id]\n        references: {table: nowhere, columns: [id]}\n"), "unknown_reference", "$.tables[0].foreign_keys[0].references.table", line: 9),
    invalid("reference to a missing column", head + "tables:\n  - name: a\n    columns:\n      - {name: id, type: uuid, primary_key: true}\n  - name: b\n    columns:\n      - name: a_id\n        type: uuid\n        references: {table: a, column: uid}\n", "unknown_reference", "$.tables[1].columns[0].references.column", line: 11),
    invalid("foreign key arity", table("t", idColumn + "    foreign_keys:\n      - columns: [id]\n        references: {table: auth.users, columns: [id, email]}\n"), "reference_arity", "$.tables[0].foreign_keys[0].references.columns", line: 9),
    invalid("foreign key on a missing column", table("t", idColumn + "    foreign_keys:\n      - columns: [owner]\n        references: {table: auth.users, columns: [id]}\n"), "unknown_column", "$.tables[0].foreign_keys[0].columns[0]", line: 8),
    invalid("initially deferred without deferrable", table("t", idColumn + "    foreign_keys:\n      - columns: [id]\n        references: {table: auth.users, columns: [id]}\n        initially_deferred: true\n"), "invalid_value", "$.tables[0].foreign_keys[0].initially_deferred", line: 10, contains: "needs deferrable: true"),
    invalid("initially deferred on a not deferrable unique", table("t", idColumn + "    unique:\n      - {columns: [id], deferrable: false, initially_deferred: true}\n"), "invalid_value", "$.tables[0].unique[0].initially_deferred", line: 8),
    invalid("partition bound that is not one", head + "tables:\n  - name: events\n    columns:\n      - {name: at, type: date}\n    partition_by: {strategy: range, columns: [at]}\n  - name: e1\n" + "    partition_of: {table: events, bound: \"VALUES 1\"}\n", "invalid_value", "$.tables[1].partition_of.bound", line: 9, contains: "is not a partition bound"),
    invalid("partition bound of the wrong strategy", head + "tables:\n  - name: events\n    columns:\n      - {name: at, type: date}\n    partition_by: {strategy: range, columns: [at]}\n  - name: e1\n" + "    partition_of: {table: events, bound: \"FOR VALUES IN (1)\"}\n", "partition_definition", "$.tables[1].partition_of.bound", line: 9, contains: "partitioned by range"),
    invalid("partition of a table without partition_by", table("t", idColumn) + "  - name: t1\n    partition_of: {table: t, bound: default}\n", "partition_definition", "$.tables[1].partition_of.table", line: 8),
    invalid("partition of an undefined table", table("t1", "    partition_of: {table: nowhere, bound: default}\n"), "unknown_reference", "$.tables[0].partition_of.table", line: 5),
    invalid("partition with its own columns", head + "tables:\n  - name: events\n    columns:\n      - {name: at, type: date}\n    partition_by: {strategy: range, columns: [at]}\n  - name: e1\n" + "    columns:\n      - {name: at, type: date}\n    partition_of: {table: events, bound: default}\n", "partition_columns", "$.tables[1].columns", line: 10),
    invalid("partition bound value that breaks out", head + "tables:\n  - name: events\n    columns:\n      - {name: at, type: date}\n    partition_by: {strategy: range, columns: [at]}\n  - name: e1\n" + "    partition_of: {table: events, bound: \"FOR VALUES FROM (1) TO (2 --)\"}\n", "invalid_fragment", "$.tables[1].partition_of.bound", line: 9),
    invalid("partition key on a missing column", table("t", idColumn + "    partition_by: {strategy: hash, columns: [nope]}\n"), "unknown_column", "$.tables[0].partition_by.columns[0]", line: 7),
    invalid("on_delete misspelt", table("t", idColumn + "      - {name: u, type: uuid, references: {table: auth.users, column: id, on_delete: delete}}\n"), "invalid_value", "$.tables[0].columns[1].references.on_delete", line: 7),
    invalid("grant option of an unknown privilege", table("t", idColumn + "    grants:\n      anon: [\"read with grant option\"]\n"), "invalid_privilege",
            "$.tables[0].grants.anon[0]", line: 8, contains: "with grant option"),
    invalid("grant option misspelt", table("t", idColumn + "    grants:\n      anon: [\"select with grant\"]\n"), "invalid_privilege",
            "$.tables[0].grants.anon[0]", line: 8),
    invalid("grant of an unknown privilege", table("t", idColumn + "    grants:\n      anon: [read]\n"), "invalid_privilege", "$.tables[0].grants.anon[0]", line: 8),

    // Tenancy and RLS.
    invalid("tenant policies required without the column", table("t", idColumn + "    rls:\n      tenant_policies: true\n"), "tenant_column_missing", "$.tables[0].rls.tenant_policies", line: 8),
    invalid("claim under user_metadata", head + "tenancy:\n  claim: user_metadata.tenant_id\n", "user_metadata_claim", "$.tenancy.claim", line: 4),
    invalid("claim that is not a path", head + "tenancy:\n  claim: \"app_metadata..x\"\n", "invalid_claim", "$.tenancy.claim", line: 4),
    invalid("RLS disabled on a tenant table", table("t", "    columns:\n      - {name: tenant_id, type: uuid}\n    rls:\n      enabled: false\n"), "tenant_rls_disabled", "$.tables[0].rls.enabled", line: 8),
    invalid("INSERT policy with using", table("t", idColumn + "    rls:\n      policies:\n        - {name: p, command: insert, using: 'true'}\n"), "invalid_policy", "$.tables[0].rls.policies[0].using", line: 9),
    invalid("policy command misspelt", table("t", idColumn + "    rls:\n      policies:\n        - {name: p, command: selct, using: 'true'}\n"), "invalid_value", "$.tables[0].rls.policies[0].command", line: 9),

    // Storage (docs/blueprints.md, Storage).
    invalid("bucket id with a slash", head + "storage:\n  buckets:\n    - {id: a/b}\n", "invalid_name", "$.storage.buckets[0].id", line: 5),
    invalid("bucket without an id", head + "storage:\n  buckets:\n    - {public: true}\n", "missing_field", "$.storage.buckets[0].id", line: 5),
    invalid("bucket size limit of zero", head + "storage:\n  buckets:\n    - {id: a, file_size_limit: 0}\n", "invalid_value", "$.storage.buckets[0].file_size_limit", line: 5),
    invalid("bucket MIME type with a space", head + "storage:\n  buckets:\n    - {id: a, allowed_mime_types: [image/png, 'image /x']}\n", "invalid_value", "$.storage.buckets[0].allowed_mime_types[1]", line: 5),
    InvalidCase(name: "bucket declared in two files", files: [
        "a.yaml": head + "storage:\n  buckets:\n    - {id: avatars}\n",
        "b.yaml": head + "storage:\n  buckets:\n    - {id: avatars, public: true}\n"], code: "duplicate_bucket", path: "$.storage.buckets[0].id", line: 5,
        file: "b.yaml"),
    invalid("storage policy closing its parentheses", head + "storage:\n  policies:\n    - {name: p, command: select, roles: [anon], using: \"true) with check (true\"}\n", "invalid_fragment", "$.storage.policies[0].using", line: 5),
    invalid("storage policy twice", head + "storage:\n  policies:\n    - {name: p, command: select, using: 'true'}\n    - {name: p, command: select, using: 'false'}\n", "duplicate_policy", "$.storage.policies[1].name", line: 6),
    invalid("storage policy INSERT with using", head + "storage:\n  policies:\n    - {name: p, command: insert, using: 'true'}\n", "invalid_policy", "$.storage.policies[0].using", line: 5),

    // SQL fragments that try to escape their place.
    invalid("default closing the statement", table("t", "    columns:\n      - {name: a, type: text, default: \"now(); drop table t\"}\n"), "invalid_fragment", "$.tables[0].columns[0].default", line: 6),
    invalid("check commenting out the rest", table("t", "    columns:\n      - {name: a, type: int, check: 'a > 0 --'}\n"), "invalid_fragment", "$.tables[0].columns[0].check", line: 6),
    invalid("block comment in a predicate", table("t", idColumn + "    indexes:\n      - {columns: [id], where: 'id is not null /* x'}\n"), "invalid_fragment", "$.tables[0].indexes[0].where", line: 8),
    invalid("policy closing its parentheses", table("t", idColumn + "    rls:\n      policies:\n        - {name: p, command: select, using: 'true) with check (true'}\n"), "invalid_fragment", "$.tables[0].rls.policies[0].using", line: 9),
    invalid("terminator in a check constraint", table("t", idColumn + "    checks:\n      - {name: c, expression: \"true; select 1\"}\n"), "invalid_fragment", "$.tables[0].checks[0].expression", line: 8),
    invalid("unterminated string literal", table("t", "    columns:\n      - {name: a, type: text, default: \"'abc\"}\n"), "invalid_fragment", "$.tables[0].columns[0].default", line: 6),
    invalid("tenancy expression with a terminator", head + "tenancy:\n  expression: \"current_setting('x'); drop table t\"\n", "invalid_fragment", "$.tenancy.expression", line: 4),

    // Sequences (line 3 is `sequences:`, line 4 the sequence).
    invalid("sequence of a type that is not an integer", head + "sequences:\n  - {name: s, type: numeric}\n", "invalid_value", "$.sequences[0].type", line: 4, contains: "smallint, integer or bigint"),
    invalid("sequence counting by zero", head + "sequences:\n  - {name: s, increment: 0}\n", "invalid_value", "$.sequences[0].increment", line: 4),
    invalid("sequence start below its min", head + "sequences:\n  - {name: s, min: 10, start: 5}\n", "invalid_value", "$.sequences[0].start", line: 4, contains: "outside 10..9223372036854775807"),
    invalid("sequence min above its max", head + "sequences:\n  - {name: s, min: 10, max: 5}\n", "invalid_value", "$.sequences[0].min", line: 4),
    invalid("smallint sequence beyond its type", head + "sequences:\n  - {name: s, type: smallint, max: 40000}\n", "invalid_value", "$.sequences[0].max", line: 4, contains: "out of range for smallint"),
    invalid("sequence start as a string", head + "sequences:\n  - {name: s, start: 'ten'}\n", "bad_value", "$.sequences[0].start", line: 4, contains: "whole number"),
    invalid("sequence owned by a missing column", table("t", idColumn + "sequences:\n  - {name: s, owned_by: t.nope}\n"), "unknown_reference", "$.sequences[0].owned_by", line: 8, contains: "no column 'nope'"),
    invalid("sequence owned by a missing table", head + "sequences:\n  - {name: s, owned_by: other.id}\n", "unknown_reference", "$.sequences[0].owned_by", line: 4),
    invalid("owned_by without a column", head + "sequences:\n  - {name: s, owned_by: justatable}\n", "invalid_value", "$.sequences[0].owned_by", line: 4),
    invalid("sequence privilege that tables have", head + "sequences:\n  - name: s\n    grants: {authenticated: [insert]}\n", "invalid_privilege", "$.sequences[0].grants.authenticated[0]", line: 5, contains: "usage"),
    invalid("sequence named like a table", table("t", idColumn + "sequences:\n  - {name: t}\n"), "duplicate_name", "$.tables[0].name", line: 4, contains: "sequence"),
    invalid("owned sequence with an owner of its own", table("t", idColumn + "sequences:\n  - {name: s, owned_by: t.id, owner: x}\n"), "invalid_value", "$.sequences[0].owner", line: 8, contains: "table's owner"),
    invalid("unknown sequence field", head + "sequences:\n  - {name: s, restart: 5}\n", "unknown_field", "$.sequences[0].restart", line: 4),

    // Functions, triggers, extensions (line 3 is `functions:`/`triggers:`, line 4 the item).
    invalid("a SQL body that does not parse", head + "functions:\n  - {name: f, returns: int, language: sql, search_path: '', body: 'select from where'}\n",
            "invalid_function_body", "$.functions[0].body", line: 4, contains: "SQL body"),
    invalid("a PL/pgSQL body that does not parse",
            head + "functions:\n  - name: f\n    returns: trigger\n    language: plpgsql\n    search_path: ''\n    body: begin retrun new; end\n",
            "invalid_function_body", "$.functions[0].body", line: 8, contains: "PL/pgSQL"),
    invalid("a definer function without search_path",
            head + "functions:\n  - {name: f, returns: int, language: sql, security: definer, body: select 1}\n",
            "definer_search_path", "$.functions[0].search_path", line: 4),
    invalid("a function argument type that is not one", head + "functions:\n  - name: f\n    arguments: [{name: a, type: 'int; drop table t'}]\n    returns: int\n    language: sql\n    search_path: ''\n    body: select 1\n",
            "invalid_fragment", "$.functions[0].arguments[0].type", line: 5),
    invalid("a function returning a table with a constraint in it", head + "functions:\n  - {name: f, returns: 'table (a int not null)', language: sql, search_path: '', body: select 1}\n",
            "invalid_value", "$.functions[0].returns", line: 4, contains: "a name and a type each"),
    invalid("a function returning a table that closes it and goes on", head + "functions:\n  - {name: f, returns: 'table (a int) language sql as $$select 1$$; drop table t; create function g() returns table (b int)', language: sql, search_path: '', body: select 1}\n",
            "invalid_value", "$.functions[0].returns", line: 4),
    invalid("a function returning a table with a column twice", head + "functions:\n  - {name: f, returns: 'table (a int, A text)', language: sql, search_path: '', body: select 1, 2}\n",
            "invalid_value", "$.functions[0].returns", line: 4, contains: "twice"),
    invalid("a function returning a table with an out argument", head + "functions:\n  - name: f\n    arguments: [{name: b, type: int, mode: out}]\n    returns: 'table (a int)'\n    language: sql\n    search_path: ''\n    body: select 1\n",
            "invalid_value", "$.functions[0].arguments[0].mode", line: 5),
    invalid("a function declared twice", head + "functions:\n  - {name: f, returns: int, language: sql, search_path: '', body: select 1}\n  - {name: f, returns: int, language: sql, search_path: '', body: select 2}\n",
            "duplicate_function", "$.functions[1].name", line: 5),
    invalid("a function privilege that tables have", head + "functions:\n  - {name: f, returns: int, language: sql, search_path: '', body: select 1, grants: {anon: [select]}}\n",
            "invalid_privilege", "$.functions[0].grants.anon[0]", line: 4, contains: "execute"),
    invalid("a trigger on a missing function", table("t", idColumn + "triggers:\n  - {name: g, table: t, timing: after, events: [insert], function: nope}\n"),
            "unknown_reference", "$.triggers[0].function", line: 8, contains: "not a function of the blueprints"),
    invalid("a trigger on a function that is not a trigger function",
            table("t", idColumn + "functions:\n  - {name: f, returns: int, language: sql, search_path: '', body: select 1}\ntriggers:\n  - {name: g, table: t, timing: after, events: [insert], function: f}\n"),
            "unknown_reference", "$.triggers[0].function", line: 10, contains: "not a trigger function"),
    invalid("a trigger on a table of a managed schema that no blueprint declares",
            head + "triggers:\n  - {name: g, table: ghosts, timing: after, events: [insert], function: auth.noop}\n",
            "unknown_reference", "$.triggers[0].table", line: 4),
    invalid("a trigger's update column that the table lacks",
            table("t", idColumn + "triggers:\n  - {name: g, table: t, timing: before, events: [{update: [nope]}], function: auth.noop}\n"),
            "unknown_reference", "$.triggers[0].events[0]", line: 8),
    invalid("a trigger WHEN that continues the statement",
            table("t", idColumn + "triggers:\n  - {name: g, table: t, timing: before, events: [update], when: 'true) execute function x(); drop table t; --', function: auth.noop}\n"),
            "invalid_fragment", "$.triggers[0].when", line: 8),
    invalid("indexes on a plain view", table("t", idColumn + "views:\n  - name: v\n    query: select id from t\n    indexes: [{columns: [id]}]\n"),
            "invalid_value", "$.views[0].indexes", line: 10, contains: "materialized"),
    invalid("with_data on a plain view", table("t", idColumn + "views:\n  - {name: v, query: select id from t, with_data: false}\n"),
            "invalid_value", "$.views[0].with_data", line: 8),
    invalid("two materialized view indexes of one name", table("t", idColumn + "views:\n  - name: v\n    query: select id from t\n    materialized: true\n    indexes: [{columns: [id], name: x}, {expression: id + 1, name: x}]\n"),
            "duplicate_name", "$.views[0].indexes[1]", line: 11),
    invalid("a materialized view index predicate that continues the statement", table("t", idColumn + "views:\n  - name: v\n    query: select id from t\n    materialized: true\n    indexes: [{columns: [id], where: 'true; drop table t'}]\n"),
            "invalid_fragment", "$.views[0].indexes[0].where", line: 11),
    invalid("an instead_of trigger on a table", table("t", idColumn + "triggers:\n  - {name: g, table: t, timing: instead_of, events: [insert], function: auth.noop}\n"),
            "invalid_value", "$.triggers[0].timing", line: 8, contains: "for views"),
    invalid("a row-level after trigger on a view", table("t", idColumn + "views:\n  - {name: v, query: select id from t}\ntriggers:\n  - {name: g, table: v, timing: after, events: [insert], function: auth.noop}\n"),
            "invalid_value", "$.triggers[0].timing", line: 10, contains: "instead_of"),
    invalid("an instead_of trigger with a condition", table("t", idColumn + "views:\n  - {name: v, query: select id from t}\ntriggers:\n  - {name: g, table: v, timing: instead_of, events: [insert], when: new.id > 0, function: auth.noop}\n"),
            "invalid_value", "$.triggers[0].when", line: 10),
    invalid("a trigger on a materialized view", table("t", idColumn + "views:\n  - {name: v, query: select id from t, materialized: true}\ntriggers:\n  - {name: g, table: v, timing: after, level: statement, events: [insert], function: auth.noop}\n"),
            "invalid_value", "$.triggers[0].table", line: 10, contains: "materialized"),
    invalid("a row-level truncate trigger", table("t", idColumn + "triggers:\n  - {name: g, table: t, timing: after, events: [truncate], function: auth.noop}\n"),
            "invalid_value", "$.triggers[0].events", line: 8),
    invalid("a trigger without timing", table("t", idColumn + "triggers:\n  - {name: g, table: t, events: [insert], function: auth.noop}\n"),
            "missing_field", "$.triggers[0].timing", line: 8),
    invalid("a view query that is two statements", head + "views:\n  - {name: v, query: 'select 1; drop table t'}\n",
            "invalid_fragment", "$.views[0].query", line: 4),
    invalid("a view query that is not a SELECT", head + "views:\n  - {name: v, query: 'delete from t'}\n",
            "invalid_fragment", "$.views[0].query", line: 4, contains: "not a SELECT"),
    invalid("a materialized view with a check option", head + "views:\n  - {name: v, query: select 1, materialized: true, check_option: local}\n",
            "invalid_value", "$.views[0].check_option", line: 4),
    invalid("a view named like a table", table("t", idColumn + "views:\n  - {name: t, query: select 1}\n"),
            "duplicate_name", "$.tables[0].name", line: 4, contains: "view"),
    invalid("an extension listed twice", head + "extensions:\n  - {name: pg_trgm}\n  - {name: pg_trgm, schema: extensions}\n",
            "duplicate_extension", "$.extensions[1].name", line: 5),

    // Malformed files.
    invalid("YAML with a broken indentation", head + "tables:\n  - name: t\n   columns: []\n", "parse_error", "$", line: 5),
    invalid("truncated JSON", "{\"version\": 1, \"tenant_id\": \"7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b\",\n \"tables\": [\n  {\"name\": \"t\",", "parse_error", "$", line: 3),
    invalid("JSON with a missing comma", "{\"version\": 1\n \"tenant_id\": \"x\"}\n", "parse_error", "$", line: 2),
    invalid("YAML alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n", "too_large", "$", line: nil),
    invalid("deeply nested flow YAML", String(repeating: "[", count: 200) + String(repeating: "]", count: 200), "too_deep", "$", line: 1),
]

@Suite("Blueprint validation")
struct BlueprintValidationTests {
    @Test("an invalid blueprint gives the right code, path and line", arguments: invalidCases)
    func invalidBlueprint(_ testCase: InvalidCase) throws {
        let set = BlueprintSet.load(testCase.files.map { BlueprintSource(path: $0.key, text: $0.value) })
        #expect(!set.isValid, "expected \(testCase.code)")
        let match = set.errors.first { $0.code == testCase.code && $0.path == testCase.path }
        let found = try #require(match, "no \(testCase.code) at \(testCase.path); got:\n\(set.errors.map(\.description).joined(separator: "\n"))")
        #expect(found.file == testCase.file)
        if let line = testCase.line { #expect(found.line == line, "\(found)") }
        #expect(!found.message.isEmpty)
        if let fragment = testCase.messageContains { #expect(found.message.contains(fragment), "\(found.message)") }
    }

    @Test func atLeastFortyInvalidCases() {
        #expect(invalidCases.count >= 40)
        #expect(Set(invalidCases.map(\.code)).count >= 30)
    }

    @Test func everyErrorIsReportedAtOnce() {
        let text = table("\"b\\ad\"", "    columns:\n      - {name: A, type: 'x;y'}\n      - {name: b, type: text, default: 'a -- b'}\n    indexes:\n      - {columns: [zz]}\n")
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: text)])
        #expect(Set(set.errors.map(\.code)) == ["invalid_name", "invalid_fragment", "unknown_column"])
        #expect(set.errors.count == 4)
        #expect(set.warnings.map(\.code) == ["non_snake_case_name"])
    }

    /// Names as PostgreSQL allows them (docs/blueprints.md, Names): ORM-style mixed case, digits
    /// first, hyphens, other scripts, policies named as sentences. Only the kinds that name
    /// relations, columns, types and constraints get the snake-case warning.
    @Test func namesAsPostgresAllowsThemAreAcceptedWithTheSnakeCaseWarning() {
        let text = """
            version: 1
            tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b
            schema: App
            enums:
              - {name: Mood, values: [ok]}
            tables:
              - name: User
                columns:
                  - {name: id, type: uuid, primary_key: true}
                  - {name: createdAt, type: timestamptz}
                  - {name: "1st-choice", type: text}
                  - {name: имя, type: text}
                indexes:
                  - {columns: [createdAt], name: UserCreatedAt}
                rls:
                  policies:
                    - {name: "Users can view their own profile.", command: select, using: "id = auth.uid()"}
            """
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: text)])
        #expect(set.errors.isEmpty, "\(set.errors)")
        #expect(set.warnings.allSatisfy { $0.code == "non_snake_case_name" })
        #expect(Set(set.warnings.map(\.path)) == [
            "$.enums[0].name", "$.tables[0].name", "$.tables[0].columns[1].name", "$.tables[0].columns[2].name",
            "$.tables[0].columns[3].name", "$.tables[0].indexes[0].name",
        ])
    }

    @Test func aNameWithADotIsReferencedAsAMapping() {
        #expect(BlueprintValidator.qualify("users", defaultSchema: "public") == QualifiedName(schema: "public", name: "users"))
        #expect(BlueprintValidator.qualify("auth.users", defaultSchema: "public") == QualifiedName(schema: "auth", name: "users"))
        #expect(BlueprintValidator.qualify("\"my.schema\".\"a.b\"", defaultSchema: "public") == QualifiedName(schema: "my.schema", name: "a.b"))
        #expect(BlueprintValidator.qualify("\"a.\"\"b\"", defaultSchema: "s") == QualifiedName(schema: "s", name: "a.\"b"))
        let text = """
            version: 1
            tenant_id: 7b0e2f8a-5c1d-4e8f-9a2b-3c4d5e6f7a8b
            tables:
              - name: a.b
                columns:
                  - {name: id, type: uuid, primary_key: true}
              - name: c
                columns:
                  - {name: id, type: uuid, primary_key: true}
                  - {name: b_id, type: uuid, references: {table: {schema: public, name: a.b}, column: id}}
            """
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: text)])
        #expect(set.errors.isEmpty, "\(set.errors)")
        let reference = set.documents[0].tables[1].columns[1].references
        #expect(reference.map { BlueprintValidator.qualify($0.table, defaultSchema: "public") } == QualifiedName(schema: "public", name: "a.b"))
    }

    @Test func filesStartingWithDotOrUnderscoreAreSkipped() {
        #expect(BlueprintSet.isBlueprintPath("a.yaml"))
        #expect(BlueprintSet.isBlueprintPath("nested/b.yml"))
        #expect(BlueprintSet.isBlueprintPath("c.json"))
        #expect(!BlueprintSet.isBlueprintPath("_drafts/a.yaml"))
        #expect(!BlueprintSet.isBlueprintPath(".hidden.yaml"))
        #expect(!BlueprintSet.isBlueprintPath("x/.git/y.yaml"))
        #expect(!BlueprintSet.isBlueprintPath("README.md"))
        let set = BlueprintSet.load([
            BlueprintSource(path: "_broken.yaml", text: "{"),
            BlueprintSource(path: "ok.yaml", text: table("t", idColumn)),
        ])
        #expect(set.isValid)
        #expect(set.fileCount == 1)
    }

    @Test func unknownTypesAreWarningsNotErrors() {
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: table("t", "    columns:\n      - {name: v, type: citext}\n"))])
        #expect(set.isValid)
        #expect(set.warnings.map(\.code) == ["unknown_type"])
    }

    @Test func rlsDisabledIsAWarning() {
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", text: table("t", idColumn + "    rls:\n      enabled: false\n"))])
        #expect(set.isValid)
        #expect(set.warnings.map(\.code) == ["rls_disabled"])
        #expect(set.warnings.first?.line == 8)
    }

    @Test func invalidUTF8IsReported() {
        let set = BlueprintSet.load([BlueprintSource(path: "a.yaml", contents: Data([0xff, 0xfe, 0x00]))])
        #expect(set.errors.map(\.code) == ["encoding"])
    }
}
