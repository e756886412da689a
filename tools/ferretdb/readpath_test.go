package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// bothKeysSearched is how SQLite's plan shows an index searched on its first two keys.
const bothKeysSearched = "(<expr>=? AND <expr>=?)"

// TestSecondKeyPushdownMatchesWhatFerretDBMatches compares filters on both keys of an index,
// the first compared for equality, with the same filters inside $and. The second key is probed
// for arrays among the rows of the first key's value only: one value of f has rows with arrays
// in g, the other none, and a third no rows at all.
func TestSecondKeyPushdownMatchesWhatFerretDBMatches(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	coll := db.Collection("pairs")
	must(coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "f", Value: 1}, {Key: "g", Value: 1}}}))

	var docs []any
	for i, v := range values() {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "f", Value: "with arrays"}, {Key: "g", Value: v}})
		if _, isArray := v.(bson.A); !isArray {
			docs = append(docs, bson.D{{Key: "_id", Value: int32(100 + i)}, {Key: "f", Value: "without"}, {Key: "g", Value: v}})
		}
	}
	docs = append(docs, bson.D{{Key: "_id", Value: "missing"}, {Key: "f", Value: "without"}})
	must(coll.InsertMany(ctx, docs))

	for _, f := range []string{"with arrays", "without", "neither"} {
		for _, v := range values() {
			for _, filter := range []bson.D{
				{{Key: "f", Value: f}, {Key: "g", Value: v}},
				{{Key: "f", Value: f}, {Key: "g", Value: bson.D{{Key: "$in", Value: bson.A{v, int32(0)}}}}},
				{{Key: "f", Value: f}, {Key: "g", Value: bson.D{{Key: "$lte", Value: int32(5)}}}},
			} {
				pushed := ids(t, coll, filter)
				alone := ids(t, coll, bson.D{{Key: "$and", Value: bson.A{filter}}})
				if !slices.Equal(pushed, alone) {
					t.Errorf("filter %v: pushed down %v, FerretDB alone %v", filter, pushed, alone)
				}
			}
		}
	}

	equal := bson.D{{Key: "f", Value: "without"}, {Key: "g", Value: int32(3)}}
	if _, plan := explain(t, db, "pairs", equal); !strings.Contains(plan, bothKeysSearched) {
		t.Errorf("g, with no arrays among f's rows, is not searched in the index:\n%s", plan)
	}

	must(coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "later"}, {Key: "f", Value: "without"}, {Key: "g", Value: bson.A{int32(3), int32(7)}}}))

	if found := ids(t, coll, equal); !slices.Contains(found, "later") {
		t.Errorf("g = 3 once an array among f's rows holds 3: %v", found)
	}
}

// TestChunkReadsSearchBothKeys reads SQLite's plan of the chunk queries image-api sends: the
// chunks of one file by their numbers are found in the files_id, n index, without reading the
// other chunks of the file.
func TestChunkReadsSearchBothKeys(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	chunks := db.Collection("images.chunks")
	must(chunks.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}}, Options: options.Index().SetUnique(true)}))

	id := primitive.NewObjectID()
	for n := range 4 {
		must(chunks.InsertOne(ctx, bson.D{{Key: "files_id", Value: id}, {Key: "n", Value: int32(n)}, {Key: "data", Value: primitive.Binary{Data: []byte{byte(n)}}}}))
	}

	for _, filter := range []bson.D{
		{{Key: "files_id", Value: id}, {Key: "n", Value: int32(3)}},
		{{Key: "files_id", Value: id}, {Key: "n", Value: bson.D{{Key: "$in", Value: bson.A{int32(0), int32(1), int32(2)}}}}},
	} {
		if pushed, plan := explain(t, db, "images.chunks", filter); !pushed || !strings.Contains(plan, "_files_id_1_n_1 "+bothKeysSearched) {
			t.Errorf("%v: filterPushdown %v, plan:\n%s", filter, pushed, plan)
		}
	}
}

// TestRepliesCarryNestedValues reads back documents with binary data in documents and arrays
// nested in each other, byte-exact, from a plain and from a capped collection: the patch
// encodes replies with nested values written in place, and selects documents as BLOBs.
func TestRepliesCarryNestedValues(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()
	if err := db.CreateCollection(ctx, "capped", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}

	data := make([]byte, 70_000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	binary := primitive.Binary{Data: data}
	doc := bson.D{
		{Key: "_id", Value: int32(1)},
		{Key: "data", Value: binary},
		{Key: "nested", Value: bson.D{{Key: "list", Value: bson.A{binary, bson.D{{Key: "deeper", Value: binary}}, "é"}}}},
		{Key: "after", Value: int32(7)},
	}
	want := must(bson.Marshal(doc))

	for _, name := range []string{"plain", "capped"} {
		coll := db.Collection(name)
		must(coll.InsertOne(ctx, doc))

		found, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: int32(1)}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal([]byte(found), want) {
			t.Errorf("%s: the document came back different (%d bytes, want %d)", name, len(found), len(want))
		}
	}
}

// TestNewDataFoldersHave16KiBPages opens the SQLite file of a new data folder: its pages are of
// the size main.go asks for.
func TestNewDataFoldersHave16KiBPages(t *testing.T) {
	db, dir := startServer(t)
	must(db.Collection("any").InsertOne(context.Background(), bson.D{{Key: "a", Value: int32(1)}}))

	sqlite := must(sql.Open("sqlite", "file:"+filepath.Join(dir, databaseName+".sqlite")+"?mode=ro"))
	defer sqlite.Close()

	var pageSize int
	if err := sqlite.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if pageSize != 16384 {
		t.Errorf("page size %d", pageSize)
	}
}
