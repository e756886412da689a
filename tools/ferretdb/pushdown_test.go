package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	_ "modernc.org/sqlite"
)

const databaseName = "pushdown"

// startServer runs our FerretDB program's server on a new data folder and returns a client.
func startServer(t *testing.T) (*mongo.Database, string) {
	t.Helper()

	dir := t.TempDir()
	db, stop := startServerIn(t, dir)
	t.Cleanup(stop)

	return db, dir
}

// startServerIn runs our FerretDB program's server on a data folder, until stop is called.
func startServerIn(t *testing.T, dir string) (*mongo.Database, func()) {
	t.Helper()

	server, err := newServer("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = server.Run(ctx)
		close(done)
	}()

	client, err := mongo.Connect(ctx, options.Client().ApplyURI(server.MongoDBURI()))
	if err != nil {
		t.Fatal(err)
	}

	return client.Database(databaseName), func() {
		_ = client.Disconnect(context.Background())
		cancel()
		<-done
	}
}

// values holds one value of each kind a top-level equality or range must tell apart.
func values() []any {
	hex := "65a1b2c3d4e5f60718293a4b"
	oid := must(primitive.ObjectIDFromHex(hex))

	return []any{
		"a", "b", `<q"é\` + "\u2028>", oid, hex,
		int32(5), int64(5), 5.0, 5.5, int32(0), math.Copysign(0, -1), int32(-3),
		int64(1<<53 + 1), 1e300,
		bson.A{"a", int32(5)}, bson.A{5.5, "b"}, bson.A{},
		bson.D{{Key: "a", Value: int32(5)}}, nil, true,
		primitive.NewDateTimeFromTime(time.UnixMilli(5)), primitive.Timestamp{T: 5, I: 1},
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}

	return v
}

// seed stores a document per value in f, one without f, and some in g as well.
func seed(t *testing.T, coll *mongo.Collection) {
	t.Helper()

	var docs []any
	for i, v := range values() {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "f", Value: v}, {Key: "g", Value: int32(i % 3)}})
	}
	docs = append(docs, bson.D{{Key: "_id", Value: "missing"}, {Key: "g", Value: int32(1)}})

	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// ids runs a find and returns the _ids it matched, as text and sorted.
func ids(t *testing.T, coll *mongo.Collection, filter any) []string {
	t.Helper()

	cursor, err := coll.Find(context.Background(), filter)
	if err != nil {
		t.Fatalf("find %v: %v", filter, err)
	}

	var docs []bson.M
	if err := cursor.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}

	found := make([]string, len(docs))
	for i, doc := range docs {
		found[i] = fmt.Sprint(doc["_id"])
	}
	slices.Sort(found)

	return found
}

// explain returns what FerretDB's explain says of a find: whether the filter was pushed down,
// and SQLite's plan.
func explain(t *testing.T, db *mongo.Database, collection string, filter any) (bool, string) {
	t.Helper()

	result := explainFind(t, db, bson.D{{Key: "find", Value: collection}, {Key: "filter", Value: filter}})

	return result["filterPushdown"].(bool), planOf(result)
}

// explainFind runs explain on a find command.
func explainFind(t *testing.T, db *mongo.Database, find bson.D) bson.M {
	t.Helper()

	var result bson.M
	if err := db.RunCommand(context.Background(), bson.D{{Key: "explain", Value: find}}).Decode(&result); err != nil {
		t.Fatal(err)
	}

	return result
}

// planOf returns SQLite's plan from an explain result, a line a step.
func planOf(result bson.M) string {
	plan := result["queryPlanner"].(bson.M)["Plan"].(bson.A)
	lines := make([]string, len(plan))
	for i, line := range plan {
		lines[i] = line.(string)
	}

	return strings.Join(lines, "\n")
}

// TestPushdownMatchesWhatFerretDBMatches compares each filter with the same filter inside
// $and, which is never pushed down: FerretDB's own filter alone decides there, as it did for
// every one of these filters before the patch.
func TestPushdownMatchesWhatFerretDBMatches(t *testing.T) {
	db, _ := startServer(t)
	coll := db.Collection("mixed")
	seed(t, coll)
	if _, err := coll.Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: bson.D{{Key: "f", Value: 1}, {Key: "g", Value: 1}}}); err != nil {
		t.Fatal(err)
	}

	var filters []bson.D
	for _, v := range values() {
		filters = append(filters,
			bson.D{{Key: "f", Value: v}},
			bson.D{{Key: "f", Value: bson.D{{Key: "$eq", Value: v}}}},
			bson.D{{Key: "f", Value: bson.D{{Key: "$in", Value: bson.A{v, "b"}}}}},
		)
	}

	for _, bound := range []any{int32(0), math.Copysign(0, -1), int32(4), int64(5), 5.0, 5.25, -1.5, int64(1 << 53), 1e301} {
		for _, operator := range []string{"$gt", "$gte", "$lt", "$lte"} {
			filters = append(filters, bson.D{{Key: "f", Value: bson.D{{Key: operator, Value: bound}}}})
		}
	}

	filters = append(filters,
		bson.D{{Key: "f", Value: bson.D{{Key: "$gte", Value: int32(0)}, {Key: "$lte", Value: int32(5)}}}},
		bson.D{{Key: "f", Value: int32(5)}, {Key: "g", Value: int32(2)}},
		bson.D{{Key: "f", Value: bson.D{{Key: "$in", Value: bson.A{}}}}},
		bson.D{{Key: "f", Value: bson.D{{Key: "$ne", Value: int32(5)}}}},
		bson.D{{Key: "_id", Value: int32(5)}},
		bson.D{{Key: "_id", Value: "missing"}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{int32(1), int64(2), 3.0, "missing"}}}}},
	)

	long := bson.A{}
	for i := range 1500 {
		long = append(long, int32(i))
	}
	filters = append(filters, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: long}}}})

	for _, filter := range filters {
		pushed := ids(t, coll, filter)
		alone := ids(t, coll, bson.D{{Key: "$and", Value: bson.A{filter}}})
		if !slices.Equal(pushed, alone) {
			t.Errorf("filter %v: pushed down %v, FerretDB alone %v", filter, pushed, alone)
		}
	}
}

// appIndexes are the indexes image-api creates, by collection.
var appIndexes = map[string][]bson.D{
	"images.files":   {{{Key: "uploadDate", Value: -1}, {Key: "_id", Value: -1}}},
	"images.chunks":  {{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}}},
	"images.digests": {{{Key: "fileId", Value: 1}}},
	"images.variants": {
		{{Key: "originalId", Value: 1}},
		{{Key: "fileId", Value: 1}},
	},
}

// TestAppQueriesUseIndexes explains each query shape image-api sends and reads SQLite's plan.
func TestAppQueriesUseIndexes(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()

	for collection, keys := range appIndexes {
		for _, key := range keys {
			if _, err := db.Collection(collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: key}); err != nil {
				t.Fatal(err)
			}
		}
	}

	id := primitive.NewObjectID()
	shapes := []struct {
		collection string
		filter     bson.D
		index      string
	}{
		{"images.files", bson.D{{Key: "_id", Value: id}}, "_id_"},
		{"images.files", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{id, primitive.NewObjectID()}}}}}, "_id_"},
		{"images.chunks", bson.D{{Key: "files_id", Value: id}}, "files_id_1_n_1"},
		{"images.chunks", bson.D{{Key: "files_id", Value: id}, {Key: "n", Value: int32(3)}}, "files_id_1_n_1"},
		{"images.chunks", bson.D{{Key: "files_id", Value: id}, {Key: "n", Value: bson.D{{Key: "$gte", Value: int32(8)}, {Key: "$lte", Value: int32(15)}}}}, "files_id_1_n_1"},
		{"images.digests", bson.D{{Key: "_id", Value: "sha256"}}, "_id_"},
		{"images.variants", bson.D{{Key: "originalId", Value: id}}, "originalId_1"},
		{"images.variants", bson.D{{Key: "fileId", Value: bson.D{{Key: "$in", Value: bson.A{id}}}}}, "fileId_1"},
	}

	for _, shape := range shapes {
		pushed, plan := explain(t, db, shape.collection, shape.filter)
		// No field here holds arrays, so no condition needs a second search for them.
		if !pushed || strings.Contains(plan, " SCAN ") || strings.Contains(plan, "MULTI-INDEX") || !strings.Contains(plan, "_"+shape.index+" (") {
			t.Errorf("%s %v: filterPushdown %v, plan:\n%s", shape.collection, shape.filter, pushed, plan)
		}
	}

	pushed, plan := explain(t, db, "images.chunks", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "n", Value: int32(1)}}}}})
	if pushed || !strings.Contains(plan, "SCAN") {
		t.Errorf("a filter that is not pushed down is explained as pushed down (%v) or without a scan:\n%s", pushed, plan)
	}
}

// TestUpdatesAndDeletesByIDUseTheIDIndex reads SQLite's plan of the statements FerretDB's
// backend writes to update and delete documents by _id, on a table FerretDB made.
func TestUpdatesAndDeletesByIDUseTheIDIndex(t *testing.T) {
	db, dir := startServer(t)
	ctx := context.Background()
	coll := db.Collection("files")

	id := primitive.NewObjectID()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "length", Value: int32(1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "length", Value: int32(2)}}}}); err != nil {
		t.Fatal(err)
	}
	if n := must(coll.CountDocuments(ctx, bson.D{{Key: "length", Value: int32(2)}})); n != 1 {
		t.Fatalf("the update by _id changed %d documents", n)
	}

	sqlite := must(sql.Open("sqlite", "file:"+filepath.Join(dir, databaseName+".sqlite")+"?mode=ro"))
	defer sqlite.Close()

	var table string
	if err := sqlite.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'files'`).Scan(&table); err != nil {
		t.Fatal(err)
	}

	for _, statement := range []string{
		fmt.Sprintf(`UPDATE %q SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->"_id" = ?`, table),
		fmt.Sprintf(`DELETE FROM %q WHERE _ferretdb_sjson->"_id" IN (?, ?)`, table),
	} {
		var plan []string
		rows := must(sqlite.Query("EXPLAIN QUERY PLAN "+statement, "{}", `"a"`))
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()

		if !slices.ContainsFunc(plan, func(line string) bool { return strings.Contains(line, table+"__id_ (") }) {
			t.Errorf("%s:\n%s", statement, strings.Join(plan, "\n"))
		}
	}

	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		t.Fatal(err)
	}
	if n := must(coll.CountDocuments(ctx, bson.D{})); n != 0 {
		t.Fatalf("the delete by _id left %d documents", n)
	}
}

// TestBinaryRoundTrip reads back binary data of every size and subtype byte-exact: the patch
// decodes base64 without encoding/json when it holds no escapes.
func TestBinaryRoundTrip(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	coll := db.Collection("binary")

	for i, size := range []int{0, 1, 2, 3, 255 * 1024, 255*1024 + 1} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(j*7 + i)
		}
		value := primitive.Binary{Subtype: byte(i % 2), Data: data}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(i)}, {Key: "data", Value: value}}); err != nil {
			t.Fatal(err)
		}

		var found struct {
			Data primitive.Binary `bson:"data"`
		}
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: int32(i)}}).Decode(&found); err != nil {
			t.Fatal(err)
		}
		if found.Data.Subtype != value.Subtype || !slices.Equal(found.Data.Data, data) {
			t.Errorf("binary of %d bytes came back as %d bytes of subtype %d", size, len(found.Data.Data), found.Data.Subtype)
		}
	}
}

// TestArraysAreFoundOnceAFieldHoldsThem queries a field that holds no arrays, which its index
// shows and the pushed-down condition then leaves out, and again once a document holds one.
func TestArraysAreFoundOnceAFieldHoldsThem(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	coll := db.Collection("scalars")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "h", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		must(coll.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(i)}, {Key: "h", Value: int32(i)}}))
	}

	equal := bson.D{{Key: "h", Value: int32(3)}}
	from := bson.D{{Key: "h", Value: bson.D{{Key: "$gte", Value: int32(4)}}}}
	if _, plan := explain(t, db, "scalars", equal); strings.Contains(plan, "MULTI-INDEX") {
		t.Errorf("a field without arrays is searched for them:\n%s", plan)
	}
	if found := ids(t, coll, equal); !slices.Equal(found, []string{"3"}) {
		t.Errorf("h = 3 before any array: %v", found)
	}

	must(coll.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(9)}, {Key: "h", Value: bson.A{int32(3), int32(7)}}}))

	if found := ids(t, coll, equal); !slices.Equal(found, []string{"3", "9"}) {
		t.Errorf("h = 3 once an array holds 3: %v", found)
	}
	if found := ids(t, coll, from); !slices.Equal(found, []string{"4", "9"}) {
		t.Errorf("h >= 4 once an array holds 7: %v", found)
	}
}

// TestCommandsWithoutAFilter sends commands that carry no filter at all to a collection with
// an index, which the pushdown must take as "every document".
func TestCommandsWithoutAFilter(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	coll := db.Collection("unfiltered")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "h", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	must(coll.InsertMany(ctx, []any{bson.D{{Key: "h", Value: int32(1)}}, bson.D{{Key: "h", Value: int32(2)}}}))

	for _, command := range []bson.D{
		{{Key: "find", Value: "unfiltered"}},
		{{Key: "find", Value: "unfiltered"}, {Key: "sort", Value: bson.D{{Key: "h", Value: -1}}}},
		{{Key: "count", Value: "unfiltered"}},
		{{Key: "aggregate", Value: "unfiltered"}, {Key: "pipeline", Value: bson.A{}}, {Key: "cursor", Value: bson.D{}}},
	} {
		if err := db.RunCommand(ctx, command).Err(); err != nil {
			t.Errorf("%v: %v", command, err)
		}
	}

	if n := must(coll.CountDocuments(ctx, bson.D{})); n != 2 {
		t.Errorf("count after the commands: %d", n)
	}
}

// TestCreatingExistingIndexesAgain creates two indexes in one command twice, as every start of
// image-api after the first does: FerretDB 1.24 panicked on the second.
func TestCreatingExistingIndexesAgain(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	models := []mongo.IndexModel{{Keys: bson.D{{Key: "c", Value: -1}}}, {Keys: bson.D{{Key: "d", Value: 1}}}}

	for range 2 {
		if _, err := db.Collection("twice").Indexes().CreateMany(ctx, models); err != nil {
			t.Fatal(err)
		}
	}

	specs := must(db.Collection("twice").Indexes().ListSpecifications(ctx))
	if len(specs) != 3 {
		t.Errorf("%d indexes after creating two twice", len(specs))
	}
}
