package main

import (
	"context"
	"fmt"
	"io"
)

func cmdSurvey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return usageError{"haveyoursay survey: not built yet"}
}

func loadDemo(ctx context.Context, d deps, stdout io.Writer) error {
	_ = fmt.Sprint
	return nil
}
