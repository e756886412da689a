package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// orderedIDs returns the _ids of a cursor's documents as text, in the cursor's order.
func orderedIDs(t *testing.T, cursor *mongo.Cursor) []string {
	t.Helper()

	var docs []bson.M
	if err := cursor.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}

	found := make([]string, len(docs))
	for i, doc := range docs {
		found[i] = fmt.Sprint(doc["_id"])
	}

	return found
}

// TestSortedFindsMatchFerretDBSort compares sorted finds with the same sort in an aggregation,
// which FerretDB's handler still sorts itself, as it sorted every find before the patch: the
// sorts that an index serves, in both directions, come from SQLite. Each sort ends with _id, so
// that one order is right. In one collection f holds arrays; in the other it holds none, so
// that a range on f also bounds the walk of the order index.
func TestSortedFindsMatchFerretDBSort(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()

	scalars := db.Collection("scalars")
	for i, v := range values() {
		if _, isArray := v.(bson.A); !isArray {
			must(scalars.InsertOne(ctx, bson.D{{Key: "_id", Value: int32(i)}, {Key: "f", Value: v}, {Key: "g", Value: int32(i % 3)}}))
		}
	}
	mixed := db.Collection("mixed")
	seed(t, mixed)

	sorts := []bson.D{
		{{Key: "f", Value: 1}, {Key: "_id", Value: 1}},
		{{Key: "f", Value: -1}, {Key: "_id", Value: -1}},
		{{Key: "f", Value: -1}, {Key: "_id", Value: 1}},
		{{Key: "g", Value: 1}, {Key: "f", Value: -1}, {Key: "_id", Value: 1}},
		{{Key: "absent", Value: 1}, {Key: "_id", Value: -1}},
		{{Key: "_id", Value: 1}},
	}
	filters := []bson.D{
		{},
		{{Key: "g", Value: int32(1)}},
	}
	for _, operator := range []string{"$gt", "$gte", "$lt", "$lte"} {
		for _, bound := range []any{int32(5), 5.25, primitive.NewDateTimeFromTime(time.UnixMilli(5))} {
			filters = append(filters, bson.D{{Key: "f", Value: bson.D{{Key: operator, Value: bound}}}})
		}
	}

	for _, coll := range []*mongo.Collection{scalars, mixed} {
		for _, keys := range []bson.D{{{Key: "f", Value: -1}, {Key: "_id", Value: -1}}, {{Key: "f", Value: 1}, {Key: "_id", Value: 1}}} {
			if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys}); err != nil {
				t.Fatal(err)
			}
		}

		for _, sort := range sorts {
			for _, filter := range filters {
				for _, limit := range []int64{0, 4} {
					pushed := orderedIDs(t, must(coll.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(limit))))

					pipeline := bson.A{bson.D{{Key: "$match", Value: filter}}, bson.D{{Key: "$sort", Value: sort}}}
					if limit > 0 {
						pipeline = append(pipeline, bson.D{{Key: "$limit", Value: limit}})
					}
					alone := orderedIDs(t, must(coll.Aggregate(ctx, pipeline)))

					if !slices.Equal(pushed, alone) {
						t.Errorf("%s, sort %v, filter %v, limit %d: SQLite %v, FerretDB alone %v", coll.Name(), sort, filter, limit, pushed, alone)
					}
				}
			}
		}
	}
}

// TestListingAndChunkReadsUseIndexes reads SQLite's plans for image-api's sorted finds: the
// listing walks the order index of its own index and stops after a page, and a GridFS read
// finds its chunks by the file's id and sorts only them.
func TestListingAndChunkReadsUseIndexes(t *testing.T) {
	db, _ := startServer(t)
	ctx := context.Background()

	for collection, keys := range appIndexes {
		for _, key := range keys {
			if _, err := db.Collection(collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: key}); err != nil {
				t.Fatal(err)
			}
		}
	}

	newestFirst := bson.D{{Key: "uploadDate", Value: -1}, {Key: "_id", Value: -1}}
	before := primitive.NewDateTimeFromTime(time.Now())
	for _, filter := range []bson.D{
		{},
		{{Key: "uploadDate", Value: bson.D{{Key: "$lte", Value: before}}}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "uploadDate", Value: bson.D{{Key: "$lt", Value: before}}}},
			bson.D{{Key: "uploadDate", Value: before}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: primitive.NewObjectID()}}}},
		}}},
	} {
		find := bson.D{{Key: "find", Value: "images.files"}, {Key: "filter", Value: filter}, {Key: "sort", Value: newestFirst}, {Key: "limit", Value: int32(25)}}
		result := explainFind(t, db, find)
		plan := planOf(result)
		if result["sortPushdown"] != true || !strings.Contains(plan, "_uploadDate_-1__id_-1_order") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("listing with filter %v: sortPushdown %v, plan:\n%s", filter, result["sortPushdown"], plan)
		}
		// A later page starts its walk at the cursor's date.
		if len(filter) > 0 && !strings.Contains(plan, "_uploadDate_-1__id_-1_order (<expr>>?)") {
			t.Errorf("a later page walks the order index from its start:\n%s", plan)
		}
	}

	// SQLite would sort whole chunks in its temporary files; FerretDB sorts the file's few.
	find := bson.D{{Key: "find", Value: "images.chunks"}, {Key: "filter", Value: bson.D{{Key: "files_id", Value: primitive.NewObjectID()}}}, {Key: "sort", Value: bson.D{{Key: "n", Value: 1}}}}
	result := explainFind(t, db, find)
	if plan := planOf(result); result["sortPushdown"] != false || !strings.Contains(plan, "_files_id_1_n_1 (") || strings.Contains(plan, " SCAN ") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("chunk read: sortPushdown %v, plan:\n%s", result["sortPushdown"], plan)
	}
}

// orderIndexes returns the names of the order indexes in a data folder's database.
func orderIndexes(t *testing.T, dir string) []string {
	t.Helper()

	sqlite := must(sql.Open("sqlite", "file:"+filepath.Join(dir, databaseName+".sqlite")+"?mode=ro"))
	defer sqlite.Close()

	var names []string
	rows := must(sqlite.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%\_order' ESCAPE '\' ORDER BY name`))
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	rows.Close()

	return names
}

// TestOrderIndexIsMadeAtTheFirstSortThatNeedsIt creates an index, as a data folder written
// before this part of the patch has one, sorts by it, and drops it.
func TestOrderIndexIsMadeAtTheFirstSortThatNeedsIt(t *testing.T) {
	db, dir := startServer(t)
	ctx := context.Background()
	files := db.Collection("images.files")
	newestFirst := bson.D{{Key: "uploadDate", Value: -1}, {Key: "_id", Value: -1}}
	if _, err := files.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: newestFirst}); err != nil {
		t.Fatal(err)
	}
	must(files.InsertOne(ctx, bson.D{{Key: "uploadDate", Value: primitive.NewDateTimeFromTime(time.Now())}}))

	if names := orderIndexes(t, dir); len(names) != 0 {
		t.Fatalf("order indexes before any sort: %v", names)
	}

	// A sort that no index serves in its directions is left to FerretDB, and needs none.
	must(files.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "uploadDate", Value: 1}})))
	if names := orderIndexes(t, dir); len(names) != 0 {
		t.Fatalf("order indexes after a sort no index serves: %v", names)
	}

	for _, sort := range []bson.D{{{Key: "uploadDate", Value: -1}}, newestFirst} {
		if found := orderedIDs(t, must(files.Find(ctx, bson.D{}, options.Find().SetSort(sort).SetLimit(5)))); len(found) != 1 {
			t.Errorf("sort %v found %v", sort, found)
		}
	}
	names := orderIndexes(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], "_uploadDate_-1__id_-1_order") {
		t.Fatalf("order indexes after the listing's sort: %v", names)
	}

	must(files.Indexes().DropOne(ctx, "uploadDate_-1__id_-1"))
	if names := orderIndexes(t, dir); len(names) != 0 {
		t.Errorf("order indexes after their index was dropped: %v", names)
	}
}
