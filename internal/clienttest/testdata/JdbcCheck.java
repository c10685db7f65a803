import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

// JdbcCheck prints what pgjdbc sees of a server holding schema.sql: the
// DatabaseMetaData rows clients such as DBeaver introspect with, typed
// PreparedStatement writes read back with the getters, a batch insert, and
// a ResultSet read in fetch-size pieces (autocommit off, so pgjdbc keeps a
// portal open and the server suspends it). Usage: JdbcCheck URL.
public class JdbcCheck {
    static void print(String what, ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
            StringBuilder b = new StringBuilder(what).append(":");
            for (int i = 1; i <= md.getColumnCount(); i++) {
                b.append(" ").append(md.getColumnLabel(i)).append("=").append(rs.getString(i));
            }
            System.out.println(b);
        }
        rs.close();
    }

    public static void main(String[] args) throws Exception {
        Connection c = DriverManager.getConnection(args[0]);
        DatabaseMetaData md = c.getMetaData();
        System.out.println("product: " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
        print("getTables", md.getTables(null, "public", "%", null));
        print("getTables TABLE,VIEW", md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"}));
        print("getTables MATERIALIZED VIEW", md.getTables(null, null, "%", new String[] {"MATERIALIZED VIEW"}));
        print("getColumns", md.getColumns(null, "public", "%", "%"));
        for (String t : new String[] {"typed", "accounts", "pair", "notes", "by_owner"}) {
            print("getPrimaryKeys " + t, md.getPrimaryKeys(null, "public", t));
            print("getIndexInfo " + t, md.getIndexInfo(null, "public", t, false, false));
            print("getIndexInfo unique " + t, md.getIndexInfo(null, "public", t, true, true));
        }
        print("getSchemas", md.getSchemas());
        print("getCatalogs", md.getCatalogs());
        print("getTableTypes", md.getTableTypes());
        // kappa's pg_type holds the types it has; PostgreSQL's, hundreds
        // more. Compare the rows of the types schema.sql uses.
        Set<String> used = new HashSet<>(Arrays.asList("bool", "int2", "int4", "int8", "float4", "float8", "numeric",
            "text", "varchar", "bpchar", "bytea", "date", "time", "timestamp", "timestamptz", "interval", "jsonb", "_int4", "_text"));
        ResultSet ti = md.getTypeInfo();
        ResultSetMetaData tmd = ti.getMetaData();
        while (ti.next()) {
            if (!used.contains(ti.getString("TYPE_NAME"))) {
                continue;
            }
            StringBuilder b = new StringBuilder("getTypeInfo:");
            for (int i = 1; i <= tmd.getColumnCount(); i++) {
                b.append(" ").append(tmd.getColumnLabel(i)).append("=").append(ti.getString(i));
            }
            System.out.println(b);
        }
        ti.close();
        for (String t : new String[] {"accounts", "pair"}) {
            print("getImportedKeys " + t, md.getImportedKeys(null, "public", t));
            print("getExportedKeys " + t, md.getExportedKeys(null, "public", t));
            print("getBestRowIdentifier " + t, md.getBestRowIdentifier(null, "public", t, DatabaseMetaData.bestRowSession, true));
            print("getTablePrivileges " + t, md.getTablePrivileges(null, "public", t));
            print("getColumnPrivileges " + t, md.getColumnPrivileges(null, "public", t, "%"));
        }
        print("getFunctions", md.getFunctions(null, "public", "%"));
        print("getProcedures", md.getProcedures(null, "public", "%"));
        print("getUDTs", md.getUDTs(null, "public", "%", null));

        // Every type through a PreparedStatement, then back through the
        // getters.
        PreparedStatement ins = c.prepareStatement(
            "INSERT INTO typed (id, b, i2, i4, i8, f4, f8, n, t, vc, c, by, d, tm, ts, tz, iv, j, ia, ta) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::interval, ?, ?, ?)");
        ins.setInt(1, 200);
        ins.setBoolean(2, true);
        ins.setShort(3, (short) -12);
        ins.setInt(4, Integer.MIN_VALUE);
        ins.setLong(5, Long.MAX_VALUE);
        ins.setFloat(6, 3.25f);
        ins.setDouble(7, -1e-7);
        ins.setBigDecimal(8, new BigDecimal("-98765.432"));
        ins.setString(9, "snow ☃ 'quoted'");
        ins.setString(10, "vc");
        ins.setString(11, "xy");
        ins.setBytes(12, new byte[] {0, 127, -128, -1});
        ins.setDate(13, java.sql.Date.valueOf("2023-12-31"));
        ins.setTime(14, java.sql.Time.valueOf("23:59:58"));
        ins.setTimestamp(15, java.sql.Timestamp.valueOf("2024-05-06 07:08:09.123456"));
        ins.setTimestamp(16, java.sql.Timestamp.valueOf("2024-05-06 07:08:09.5"));
        ins.setString(17, "2 days 03:00:00");
        org.postgresql.util.PGobject j = new org.postgresql.util.PGobject();
        j.setType("jsonb");
        j.setValue("{\"list\": [1, 2.5, \"x\"], \"ok\": true}");
        ins.setObject(18, j);
        ins.setArray(19, c.createArrayOf("int4", new Integer[] {5, null, 6}));
        ins.setArray(20, c.createArrayOf("text", new String[] {"a", "b c", null}));
        System.out.println("insert typed: " + ins.executeUpdate());
        ins.setInt(1, 201);
        int[] nullTypes = {Types.BOOLEAN, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.REAL, Types.DOUBLE,
            Types.NUMERIC, Types.VARCHAR, Types.VARCHAR, Types.CHAR, Types.BINARY, Types.DATE, Types.TIME,
            Types.TIMESTAMP, Types.TIMESTAMP, Types.VARCHAR, Types.OTHER, Types.ARRAY, Types.ARRAY};
        for (int i = 0; i < nullTypes.length; i++) {
            ins.setNull(i + 2, nullTypes[i]);
        }
        System.out.println("insert nulls: " + ins.executeUpdate());

        PreparedStatement sel = c.prepareStatement("SELECT * FROM typed WHERE id = ? OR id BETWEEN ? AND 299 ORDER BY id");
        sel.setInt(1, 1);
        sel.setInt(2, 200);
        ResultSet rs = sel.executeQuery();
        while (rs.next()) {
            String id = "row " + rs.getInt("id") + ":";
            System.out.println(id + " getBoolean " + rs.getBoolean("b") + " wasNull " + rs.wasNull());
            System.out.println(id + " getShort " + rs.getShort("i2"));
            System.out.println(id + " getInt " + rs.getInt("i4"));
            System.out.println(id + " getLong " + rs.getLong("i8"));
            System.out.println(id + " getFloat " + rs.getFloat("f4"));
            System.out.println(id + " getDouble " + rs.getDouble("f8"));
            System.out.println(id + " getBigDecimal " + rs.getBigDecimal("n"));
            System.out.println(id + " getString t " + rs.getString("t"));
            System.out.println(id + " getString vc " + rs.getString("vc") + " c " + rs.getString("c"));
            System.out.println(id + " getBytes " + Arrays.toString(rs.getBytes("by")));
            System.out.println(id + " getDate " + rs.getDate("d"));
            System.out.println(id + " getTime " + rs.getTime("tm"));
            System.out.println(id + " getTimestamp ts " + rs.getTimestamp("ts") + " tz " + rs.getTimestamp("tz"));
            System.out.println(id + " getString iv " + rs.getString("iv"));
            Object jo = rs.getObject("j");
            System.out.println(id + " getObject j " + (jo == null ? "null" : jo.getClass().getName() + " " + jo));
            Array ia = rs.getArray("ia");
            System.out.println(id + " getArray ia " + (ia == null ? "null" : ia.getBaseTypeName() + " " + Arrays.toString((Object[]) ia.getArray())));
            Array ta = rs.getArray("ta");
            System.out.println(id + " getArray ta " + (ta == null ? "null" : ta.getBaseTypeName() + " " + Arrays.toString((Object[]) ta.getArray())));
            for (String col : new String[] {"id", "b", "i2", "i4", "i8", "f4", "f8", "n", "by", "d", "tm", "ts", "tz", "iv"}) {
                Object o = rs.getObject(col);
                System.out.println(id + " getObject " + col + " " + (o == null ? "null" : o.getClass().getName() + " " + o));
            }
        }
        ResultSetMetaData rsmd = rs.getMetaData();
        for (int i = 1; i <= rsmd.getColumnCount(); i++) {
            System.out.println("ResultSetMetaData " + rsmd.getColumnName(i) + " type " + rsmd.getColumnType(i) + " " + rsmd.getColumnTypeName(i)
                + " precision " + rsmd.getPrecision(i) + " scale " + rsmd.getScale(i) + " nullable " + rsmd.isNullable(i)
                + " table " + rsmd.getTableName(i) + " class " + rsmd.getColumnClassName(i));
        }
        rs.close();

        // A statement run often enough that pgjdbc switches it to a named
        // server-side prepared statement (prepareThreshold 5).
        PreparedStatement view = c.prepareStatement("SELECT owner, n, total FROM by_owner WHERE owner = ?");
        for (int i = 0; i < 7; i++) {
            view.setString(1, i % 2 == 0 ? "ann" : "bob");
            ResultSet v = view.executeQuery();
            while (v.next()) {
                System.out.println("by_owner run " + i + ": " + v.getString(1) + " " + v.getLong(2) + " " + v.getBigDecimal(3));
            }
            v.close();
        }

        PreparedStatement batch = c.prepareStatement("INSERT INTO notes (id, body, at) VALUES (?, ?, ?)");
        for (int i = 200; i < 205; i++) {
            batch.setInt(1, i);
            batch.setString(2, "note " + i);
            batch.setTimestamp(3, java.sql.Timestamp.valueOf("2024-01-01 00:00:0" + (i - 200)));
            batch.addBatch();
        }
        System.out.println("executeBatch: " + Arrays.toString(batch.executeBatch()));
        Statement st = c.createStatement();
        print("after batch", st.executeQuery("SELECT id, body, at FROM notes WHERE id BETWEEN 200 AND 299 ORDER BY id"));

        // Fetch size with autocommit off: the rows arrive 7 at a time from
        // a suspended portal.
        c.setAutoCommit(false);
        Statement fs = c.createStatement();
        fs.setFetchSize(7);
        ResultSet big = fs.executeQuery("SELECT g, g * 2 AS twice FROM generate_series(1, 100) AS g");
        long sum = 0;
        int rows = 0;
        while (big.next()) {
            sum += big.getLong(2);
            rows++;
        }
        big.close();
        System.out.println("fetch size 7: rows " + rows + " sum " + sum);
        PreparedStatement fp = c.prepareStatement("SELECT id, owner FROM accounts WHERE id > ? ORDER BY id");
        fp.setFetchSize(1);
        fp.setLong(1, 0);
        print("fetch size 1", fp.executeQuery());
        c.commit();
        c.setAutoCommit(true);

        // Transactions with autocommit off (pgjdbc sends BEGIN before the
        // first statement): the block reads its own writes, rollback()
        // discards them, a savepoint undoes part, an error fails the block
        // until rollback, commit() keeps the rest.
        c.setAutoCommit(false);
        Statement tx = c.createStatement();
        tx.executeUpdate("INSERT INTO accounts (id, owner, balance) VALUES (210, 'jdbc', 10)");
        tx.executeUpdate("INSERT INTO notes (id, body) VALUES (210, 'rolled back')");
        print("in block", tx.executeQuery("SELECT (SELECT count(*) FROM accounts WHERE id = 210) AS a, (SELECT count(*) FROM notes WHERE id = 210) AS n"));
        c.rollback();
        print("after rollback", tx.executeQuery("SELECT (SELECT count(*) FROM accounts WHERE id = 210) AS a, (SELECT count(*) FROM notes WHERE id = 210) AS n"));
        tx.executeUpdate("INSERT INTO accounts (id, owner, balance) VALUES (211, 'jdbc', 20)");
        Savepoint sp = c.setSavepoint();
        tx.executeUpdate("UPDATE accounts SET balance = 999 WHERE id = 211");
        tx.executeUpdate("INSERT INTO notes (id, body) VALUES (211, 'undone')");
        c.rollback(sp);
        tx.executeUpdate("INSERT INTO notes (id, body) VALUES (212, 'kept')");
        try {
            tx.executeUpdate("INSERT INTO accounts (id, owner) VALUES (211, 'dup')");
        } catch (SQLException e) {
            System.out.println("duplicate in block: " + e.getSQLState());
        }
        try {
            tx.executeQuery("SELECT 1");
        } catch (SQLException e) {
            System.out.println("failed block: " + e.getSQLState());
        }
        c.rollback();
        tx.executeUpdate("INSERT INTO accounts (id, owner, balance) VALUES (213, 'jdbc', 30)");
        sp = c.setSavepoint();
        tx.executeUpdate("UPDATE accounts SET balance = 31 WHERE id = 213");
        c.releaseSavepoint(sp);
        tx.executeUpdate("INSERT INTO notes (id, body) VALUES (213, 'committed')");
        c.commit();
        c.setAutoCommit(true);
        print("after commit", tx.executeQuery("SELECT a.id, a.balance, n.body FROM accounts a JOIN notes n ON n.id = a.id WHERE a.id BETWEEN 210 AND 219 ORDER BY a.id"));

        // Errors arrive as SQLExceptions with the SQLSTATE.
        try {
            st.executeQuery("SELECT * FROM no_such_table");
        } catch (SQLException e) {
            System.out.println("error: " + e.getSQLState());
        }
        try {
            ins.setInt(1, 200);
            ins.executeUpdate();
        } catch (SQLException e) {
            System.out.println("duplicate key: " + e.getSQLState());
        }
        c.close();
    }
}
