package s3

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// SDKGetter adapts an S3 API client (*s3.Client) to Getter.
type SDKGetter struct{ API API }

// Get implements Getter.
func (g SDKGetter) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	res, err := g.API.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}
